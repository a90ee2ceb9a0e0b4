/**
 * Write-ahead at the controller: every command that reached a simulated device had its intent
 * made durable (writeIntent resolved) before, and every intent was settled. Observed by wrapping
 * the store and the simulator's drivers into one ordered log.
 */
import { describe, expect, it } from 'vitest';
import type { DeviceCommand, DeviceDriver } from '../../src/devices/types.js';
import { MemoryStore, type DurableStore, type Intent } from '../../src/persist/index.js';
import { CellRun } from '../../src/runtime/run.js';
import { DEMO_PATH } from '../controller/helpers.js';

type Event = { kind: 'durable'; intent: Intent } | { kind: 'sent'; device: string; command: DeviceCommand };

function recordingStore(inner: MemoryStore, log: Event[]): DurableStore {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'writeIntent') {
        return async (intent: Intent) => {
          await target.writeIntent(intent);
          log.push({ kind: 'durable', intent });
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function recordingDrivers(drivers: ReadonlyMap<string, DeviceDriver>, log: Event[]): Map<string, DeviceDriver> {
  const out = new Map<string, DeviceDriver>();
  for (const [name, inner] of drivers) {
    out.set(name, new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'write') {
          return (command: DeviceCommand) => {
            log.push({ kind: 'sent', device: name, command });
            target.write(command);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }));
  }
  return out;
}

describe('write-ahead order at the controller', () => {
  it('no command reaches a device before its intent is durable; every intent is settled', async () => {
    const log: Event[] = [];
    const memory = new MemoryStore();
    const run = new CellRun({
      cellPath: DEMO_PATH,
      virtualTime: true,
      cycles: 5,
      autostart: true,
      seed: 2,
      store: recordingStore(memory, log),
      drivers: (ctx) => recordingDrivers(ctx.sim.drivers, log),
    });
    const summary = await run.run();
    expect(summary.ok).toBe(true);

    const durable: Intent[] = [];
    let sent = 0;
    for (const e of log) {
      if (e.kind === 'durable') {
        durable.push(e.intent);
        continue;
      }
      // The safe state is not a step: it never waits for the disk.
      if (e.command.type === 'safeState') continue;
      const i = durable.findIndex((d) => d.device === e.device && JSON.stringify(d.command) === JSON.stringify(e.command));
      expect(i, `${e.device} ${JSON.stringify(e.command)} reached the device without a durable intent`).toBeGreaterThanOrEqual(0);
      durable.splice(i, 1);
      sent++;
    }
    expect(sent).toBeGreaterThan(50);
    expect(durable).toEqual([]); // every durable intent was sent (nothing cut in a nominal run)
    const outcomes = memory.calls.filter((c) => c.op === 'writeOutcome').length;
    const intents = memory.calls.filter((c) => c.op === 'writeIntent').length;
    expect(intents).toBe(sent);
    // Each intent gets 'sent' and then its settling outcome.
    expect(outcomes).toBe(2 * intents);
  });
});

describe('a durable store that fails', () => {
  it('abandons the step whose intent could not be written, sends nothing more, and holds with a persistence fault', async () => {
    const log: Event[] = [];
    const memory = new MemoryStore();
    let intents = 0;
    // The disk fails on the 12th intent: everything before it was durable.
    const failing = new Proxy(recordingStore(memory, log), {
      get(target, prop, receiver) {
        if (prop === 'writeIntent') {
          return async (intent: Intent) => {
            if (++intents >= 12) throw new Error('EIO: i/o error');
            await target.writeIntent(intent);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const run = new CellRun({
      cellPath: DEMO_PATH,
      virtualTime: true,
      cycles: 5,
      autostart: true,
      seed: 2,
      store: failing,
      keepJournal: true,
      drivers: (ctx) => recordingDrivers(ctx.sim.drivers, log),
    });
    const summary = await run.run();
    expect(summary.ok).toBe(false);
    expect(['Held', 'Holding']).toContain(summary.finalState);

    const records = run.memory!.records();
    const fault = records.find((r) => r.kind === 'fault' && r.fault === 'persistence_failed');
    expect(fault, 'persistence fault journaled').toBeDefined();
    expect(String(fault!.message)).toContain('EIO');
    // The step whose intent failed was started and then abandoned, never sent.
    const failedStart = records.filter((r) => r.kind === 'step' && r.phase === 'start')[11]!;
    const abandoned = records.find((r) => r.kind === 'step' && r.phase === 'abandoned' && r.device === failedStart.device && r.step === failedStart.step && r.seq > failedStart.seq);
    expect(abandoned, `${String(failedStart.device)} ${String(failedStart.step)} journaled as abandoned`).toBeDefined();
    // After the failure no motion command reached any device (the safe state may, it never waits for the disk).
    const lastDurable = log.reduce((at, e, i) => (e.kind === 'durable' ? i : at), -1);
    const motionsAfter = log.slice(lastDurable + 1).filter((e) => e.kind === 'sent' && e.command.type !== 'safeState' && e.command.type !== 'stop');
    // The last durable intent may still be sent after it; nothing else.
    expect(motionsAfter.length).toBeLessThanOrEqual(1);
    expect(log.filter((e) => e.kind === 'durable')).toHaveLength(11);
  });
});
