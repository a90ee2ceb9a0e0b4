import { describe, expect, it } from 'vitest';
import { DeviceLogMemory } from '../../src/sim/index.js';
import { STATES } from '../machines/packmlTable.js';
import { DemoCell, reach } from '../controller/runHarness.js';
import { COMMAND_BACKLOG_LIMIT, STOP_RESERVE } from '../../src/controller/controller.js';

const DEVICES = ['feeder', 'arm', 'conveyor', 'safety_io'];

/** Count the transitions the operator path to `state` goes through after boot. */
function transitionsOnPathTo(state: (typeof STATES)[number]): number {
  const cell = new DemoCell({ cycles: 1 });
  reach[state](cell);
  const n = cell.run.memory!.records().filter((r) => r.kind === 'state').length - 1;
  void cell.close();
  return n;
}

describe('emergency stop injected right after every transition of the paths to all 17 states', () => {
  for (const state of STATES) {
    it(`on the way to ${state}`, () => {
      const transitions = transitionsOnPathTo(state);
      // k = 0: at boot, before any transition; k = n: right after the n-th transition.
      for (let k = 0; k <= transitions; k++) {
        const deviceLog = new DeviceLogMemory();
        const cell = new DemoCell({ cycles: 1, deviceLog });
        let seen = 0;
        let tripped = k === 0;
        if (k === 0) cell.pressEstop(true);
        // Trip right after the k-th transition (on the clock: never from inside the controller's callback).
        cell.run.bus.subscribe(cell.run.controller.topics.events, (m) => {
          const e = JSON.parse(m.data);
          if (e.type === 'state.changed' && ++seen === k && !tripped) {
            tripped = true;
            cell.clock.setTimeout(() => cell.pressEstop(true), 0);
          }
        });
        try {
          reach[state](cell);
        } catch {
          // The e-stop ended the path early: expected.
        }
        if (!tripped) cell.advance(1); // the trip lands after the last transition
        cell.advance(2000);
        const journal = cell.run.memory!.records();
        const trip = journal.findIndex((r) => r.kind === 'estop' && r.active === true);
        expect(trip, `k=${k}: e-stop recorded`).toBeGreaterThan(0);
        // Safe state to every device, journaled before the e-stop record and before any state change.
        const before = journal.slice(0, trip).reverse();
        const safe = new Set<string>();
        for (const r of before) {
          if (r.kind === 'step' && r.phase === 'abandoned') continue; // steps the safe state cut short
          if (r.kind !== 'device.command' || (r.command as { type: string }).type !== 'safeState') break;
          safe.add(r.device as string);
        }
        expect([...safe].sort(), `k=${k}`).toEqual([...DEVICES].sort());
        expect(['Aborting', 'Aborted'], `k=${k}`).toContain(cell.state);
        // Nothing moves until a Reset (there is none here).
        const tripT = journal[trip]!.t;
        const motion = deviceLog.entries.filter((e) => e.kind === 'command' && e.t > tripT && e.outcome === 'executed' && ['release', 'move', 'home', 'index'].includes(e.command.type));
        expect(motion, `k=${k}`).toEqual([]);
        expect(cell.run.sim.drivers.get('arm')!.read().moving || cell.run.sim.drivers.get('conveyor')!.read().moving, `k=${k}: still moving`).toBe(false);
        void cell.close();
      }
    });
  }
});

describe('the e-stop path does not wait behind a flood of operator commands', () => {
  it('5,000 commands arrive, an e-stop trips: the safe state reaches every device before the flood is processed further, and no command is lost', () => {
    const deviceLog = new DeviceLogMemory();
    const cell = new DemoCell({ deviceLog });
    reach.Execute(cell);
    cell.advance(500);
    const words = ['hold', 'unhold', 'stop', 'start', 'bogus', 'reset', 'suspend', 'ack'];
    const commandsBefore = cell.run.memory!.records().filter((r) => r.kind === 'command').length;
    for (let i = 0; i < 5000; i++) cell.send(words[i % words.length]!);
    cell.pressEstop(true);
    const journal = () => cell.run.memory!.records();
    const tripIndex = journal().findIndex((r) => r.kind === 'estop' && r.active === true);
    const backlogFull = (r: Record<string, unknown>) => typeof r.reason === 'string' && r.reason.includes('commands are already waiting');
    const beforeTrip = journal().slice(0, tripIndex).filter((r) => r.kind === 'command');
    const handledBeforeTrip = beforeTrip.filter((r) => !backlogFull(r)).length - commandsBefore;
    // Only the first turn's small budget was handled before the trip; the safe state went out at once.
    expect(handledBeforeTrip).toBeLessThanOrEqual(16);
    // What did not fit the bounded backlog was refused as it arrived, each with its answer (a
    // stop among them still found room in the reserve kept for Stop and Abort).
    expect(beforeTrip.filter(backlogFull)).toHaveLength(5000 - 16 - COMMAND_BACKLOG_LIMIT - STOP_RESERVE);
    const safeStates = deviceLog.entries.flatMap((e) => (e.kind === 'command' && e.command.type === 'safeState' ? [e.device] : []));
    expect(new Set(safeStates)).toEqual(new Set(DEVICES));
    cell.advance(1000);
    const handled = journal().filter((r) => r.kind === 'command').length - commandsBefore;
    expect(handled).toBe(5000);
    expect(cell.state).toBe('Aborted');
    void cell.close();
  });
});

describe('a flood of operator commands is bounded', () => {
  it('beyond the backlog a command is refused at once and answered; a Stop sent after the flood still finds room and is handled', () => {
    const cell = new DemoCell();
    reach.Execute(cell);
    const events = cell.events as Array<{ type: string; command?: string; reason?: string }>;
    cell.advance(100); // a fresh turn: its budget of 16 is unspent
    const before = events.length;
    const n = 20_000;
    for (let i = 0; i < n; i++) cell.send('unsuspend');
    const refusedAtOnce = events.slice(before).filter((e) => e.type === 'command.rejected' && e.reason?.includes('commands are already waiting'));
    expect(refusedAtOnce).toHaveLength(n - 16 - COMMAND_BACKLOG_LIMIT);
    // The backlog is full, but Stop has its reserve: it waits behind the bounded backlog only, then is handled.
    cell.send('stop');
    cell.until('Stopped');
    const answers = events.slice(before).filter((e) => e.type === 'command.accepted' || e.type === 'command.rejected');
    expect(answers).toHaveLength(n + 1);
    expect(answers.at(-1)).toMatchObject({ type: 'command.accepted', command: 'stop' });
    void cell.close();
  });
});

describe('latch, Clear and restart rules', () => {
  it('Clear is refused while the e-stop is pressed, naming it; after release Clear -> Stopped, Reset re-homes, Start is separate', () => {
    const deviceLog = new DeviceLogMemory();
    const cell = new DemoCell({ deviceLog });
    reach.Execute(cell);
    cell.advance(1000);
    cell.pressEstop(true);
    cell.until('Aborted');
    cell.send('clear');
    expect(cell.lastCommandEvent()).toMatchObject({ type: 'command.rejected', reason: expect.stringContaining('estop_button') });
    cell.pressEstop(false);
    cell.advance(5000);
    expect(cell.state).toBe('Aborted'); // releasing restarts nothing
    cell.send('clear');
    cell.until('Stopped');
    cell.advance(5000);
    expect(cell.state).toBe('Stopped');
    const homesBefore = deviceLog.entries.filter((e) => e.kind === 'command' && e.command.type === 'home').length;
    cell.send('reset');
    cell.until('Idle');
    expect(deviceLog.entries.filter((e) => e.kind === 'command' && e.command.type === 'home').length).toBe(homesBefore + 1);
    cell.advance(10_000);
    expect(cell.state).toBe('Idle'); // Start is a separate command
    void cell.close();
  });

  it('a protective stop (guard door, category 2, end state Held) stops motion now, and closing the door resumes nothing', () => {
    const deviceLog = new DeviceLogMemory();
    const cell = new DemoCell({ deviceLog });
    reach.Execute(cell);
    cell.advance(2000);
    const arm = cell.run.sim.drivers.get('arm')!;
    expect(arm.read().moving).toBe(true);
    cell.openGuard(true);
    const stopAt = cell.clock.now();
    expect(deviceLog.entries.some((e) => e.kind === 'command' && e.device === 'arm' && e.command.type === 'stop' && e.t === stopAt)).toBe(true);
    cell.until('Held');
    expect(arm.read().moving).toBe(false);
    cell.openGuard(false);
    cell.advance(10_000);
    expect(cell.state).toBe('Held');
    cell.send('unhold');
    cell.until('Execute');
    void cell.close();
  });
});
