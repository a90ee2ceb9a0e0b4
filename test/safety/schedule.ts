/**
 * Random safety schedules on the simulated demo cell in virtual time: e-stop trips and releases,
 * guard openings, operator commands and silent heartbeats at given times. Every simulated driver is
 * wrapped by an observer that judges each command at the moment it physically reaches the device,
 * against the simulator's true state (not the controller's belief).
 */
import type { CellDescription } from '../../src/cell/schema.js';
import { MOTION_COMMANDS, type DeviceCommand, type DeviceDriver } from '../../src/devices/types.js';
import type { JournalRecord } from '../../src/journal/journal.js';
import { CellRun } from '../../src/runtime/run.js';
import { InterlockTable, type LiveState } from '../../src/safety/interlocks.js';
import { DeviceLogMemory, type DeviceLogEntry } from '../../src/sim/index.js';
import { VirtualClock } from '../../src/time/clock.js';
import { expectedAfter, type Command, type State } from '../machines/packmlTable.js';
import { DEMO_PATH } from '../controller/helpers.js';

export type ScheduledEvent =
  | { at: number; kind: 'estop'; pressed: boolean }
  | { at: number; kind: 'guard'; open: boolean }
  | { at: number; kind: 'command'; word: string }
  | { at: number; kind: 'silent'; device: string; durationMs: number };

export interface ScheduleResult {
  journal: JournalRecord[];
  deviceLog: DeviceLogEntry[];
  /** Breaches seen by the observer as commands reached the devices. */
  observed: string[];
}

let onLink: (device: string, silent: boolean, t: number) => void = () => {};

/** Wrap the simulator's drivers: judge every command as it reaches a device. */
function observe(cell: CellDescription, drivers: ReadonlyMap<string, DeviceDriver>, clock: VirtualClock, observed: string[]): Map<string, DeviceDriver> {
  const table = new InterlockTable(cell);
  const armTargets = new Map<string, readonly number[]>();
  // An input that changed while its device's link was silent cannot be seen by the controller
  // until its reading goes stale (two heartbeat periods after the last sign of life); a command
  // inside that window that only its truth forbids is excused. Past it, the controller must
  // treat the input as unknown and refuse.
  const silentSince = new Map<string, number>();
  const excusedBySilence = (interlock: string, now: number): boolean => {
    const rule = cell.safety.interlocks.find((r) => r.name === interlock);
    const input = rule && 'input' in rule.when ? rule.when.input.split('.')[0]! : undefined;
    const since = input === undefined ? undefined : silentSince.get(input);
    const period = input === undefined ? undefined : cell.devices[input]?.heartbeat?.periodMs;
    return since !== undefined && period !== undefined && now <= since + 2 * period;
  };
  onLink = (device, silent, t) => {
    if (silent) silentSince.set(device, t);
    else silentSince.delete(device);
  };
  const truth: LiveState = {
    reading: (d) => drivers.get(d)?.read(),
    motionInFlight: (d) => drivers.get(d)?.read().moving ?? false,
    armTarget: (d) => (drivers.get(d)?.read().moving ? armTargets.get(d) : undefined),
  };
  const wrapped = new Map<string, DeviceDriver>();
  for (const [name, inner] of drivers) {
    const desc = cell.devices[name]!;
    wrapped.set(name, {
      name: inner.name,
      kind: inner.kind,
      configure: () => inner.configure(),
      activate: () => inner.activate(),
      deactivate: () => inner.deactivate(),
      read: () => inner.read(),
      onFeedback: (l) => inner.onFeedback(l),
      write: (command: DeviceCommand) => {
        if (MOTION_COMMANDS.has(command.type)) {
          const refused = table.refusals(name, command, truth).filter((r) => !excusedBySilence(r.interlock, clock.now()));
          if (refused.length > 0) observed.push(`t=${clock.now()} ${name} ${command.type} reached the device while ${refused.map((r) => r.interlock).join(', ')} forbids it`);
          if (command.type === 'move') armTargets.set(name, command.target);
        }
        const before = inner.read().outputs;
        inner.write(command);
        if (command.type === 'safeState') {
          const after = inner.read().outputs;
          for (const [channel, safe] of safeValues(desc)) {
            const want = safe === 'hold' ? before[channel] : safe === 'on';
            if (after[channel] !== want) observed.push(`t=${clock.now()} ${name}.${channel} is ${after[channel]} after safeState; its safe value is ${safe}${safe === 'hold' ? ` (${before[channel]})` : ''}`);
          }
        }
      },
    });
  }
  return wrapped;
}

function safeValues(desc: CellDescription['devices'][string]): Array<[string, 'on' | 'off' | 'hold']> {
  switch (desc.kind) {
    case 'feeder':
      return [['release', desc.release.safeValue]];
    case 'arm':
      return [['vacuum', desc.gripper.vacuum.safeValue]];
    case 'io':
      return Object.entries(desc.outputs).map(([ch, o]) => [ch, o.safeValue]);
    default:
      return [];
  }
}

export function runSchedule(events: ScheduledEvent[], options: { seed: number; horizonMs: number }): ScheduleResult {
  const observed: string[] = [];
  // Tell the observer about link silences as the simulator logs them.
  const deviceLog = new (class extends DeviceLogMemory {
    override write(entry: DeviceLogEntry): void {
      super.write(entry);
      if (entry.kind === 'link') onLink(entry.device, entry.event === 'silent', entry.t);
    }
  })();
  const run = new CellRun({
    cellPath: DEMO_PATH,
    virtualTime: true,
    keepJournal: true,
    seed: options.seed,
    deviceLog,
    drivers: (ctx) => observe(ctx.cell, ctx.sim.drivers, ctx.clock as VirtualClock, observed),
  });
  const clock = run.clock as VirtualClock;
  run.start();
  for (const e of events) {
    clock.setTimeout(() => {
      switch (e.kind) {
        case 'estop':
          return run.sim.setInput('safety_io', 'estop_ok', !e.pressed);
        case 'guard':
          return run.sim.setInput('safety_io', 'guard_closed', !e.open);
        case 'command':
          return run.send(e.word);
        case 'silent':
          return run.sim.inject({ fault: 'heartbeat_silent', device: e.device, durationMs: e.durationMs });
      }
    }, e.at);
  }
  clock.advanceTo(options.horizonMs);
  void run.close();
  return { journal: run.memory!.records(), deviceLog: deviceLog.entries, observed };
}

/** [silent, resumed] intervals of a device's link (resumed = Infinity if still silent). */
function silentIntervals(log: DeviceLogEntry[], device: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const e of log) {
    if (e.kind !== 'link' || e.device !== device) continue;
    if (e.event === 'silent') out.push([e.t, Infinity]);
    else if (out.length > 0) out[out.length - 1]![1] = e.t;
  }
  return out;
}

/** Indexes of the device-log entries where the e-stop chain opened (true -> false edges only). */
function estopChainOpenings(log: DeviceLogEntry[]): number[] {
  let closed = true;
  const out: number[] = [];
  log.forEach((e, i) => {
    if (e.kind !== 'input' || e.channel !== 'estop_ok') return;
    if (closed && e.value === false) out.push(i);
    closed = e.value;
  });
  return out;
}

/** Every invariant of the safety rules, on what the run left behind; returns the breaches. */
export function safetyBreaches(r: ScheduleResult): string[] {
  const breaches = [...r.observed];
  const isMotion = (e: DeviceLogEntry) => e.kind === 'command' && e.outcome === 'executed' && MOTION_COMMANDS.has(e.command.type);

  // 1. No motion reaches a device between an e-stop trip and the next accepted Reset.
  const resets = r.journal.filter((x) => x.kind === 'command' && x.command === 'reset' && x.accepted).map((x) => x.t);
  const chainOpenings = estopChainOpenings(r.deviceLog);
  const controllerTrips = r.journal.filter((x) => x.kind === 'estop' && x.active === true).map((x) => x.t);
  // An e-stop pressed while the safety I/O board's link is silent cannot reach the controller (the
  // hardware relay covers that); the controller must then trip on the lost heartbeat, within
  // period x misses plus one check period. Until then, it cannot know.
  const silent = silentIntervals(r.deviceLog, 'safety_io');
  const detectionBoundMs = 50 * 3 + 50 + 1;
  const knownAt = (t: number): number => {
    const gap = silent.find(([from, to]) => t >= from && t <= to);
    if (!gap) return t;
    const detected = controllerTrips.find((x) => x >= gap[0]) ?? Infinity;
    if (detected > gap[0] + detectionBoundMs && t < gap[0] + detectionBoundMs) {
      breaches.push(`safety_io silent from ${gap[0]}: its heartbeat loss was not detected within ${detectionBoundMs} ms`);
    }
    return Math.min(Math.max(t, detected), Math.max(t, gap[1]));
  };
  const trips: number[] = [...chainOpenings.map((i) => knownAt(r.deviceLog[i]!.t)), ...controllerTrips];
  for (const trip of trips) {
    const reset = resets.find((t) => t > trip) ?? Infinity;
    for (const e of r.deviceLog) {
      if (isMotion(e) && e.t > trip && e.t < reset) breaches.push(`motion ${JSON.stringify(e)} after the e-stop trip at ${trip} before a Reset`);
    }
  }

  // 1b. At every e-stop trip (the chain opening), every device's next command is its safe state.
  for (const opening of chainOpenings) {
    const opened = r.deviceLog[opening]!;
    // Judge from the moment the controller could know (see above).
    const from = knownAt(opened.t);
    const trip = { t: from };
    const i = from === opened.t ? opening : r.deviceLog.findIndex((e) => e.t >= from);
    if (i < 0) continue;
    const lastReset = Math.max(0, ...resets.filter((t) => t <= trip.t));
    for (const device of new Set(r.deviceLog.filter((e) => e.kind === 'command').map((e) => (e as { device: string }).device))) {
      const next = r.deviceLog.slice(i + 1).find((e) => e.kind === 'command' && e.device === device);
      if (next && (next as { command: DeviceCommand }).command.type !== 'safeState') {
        breaches.push(`after the e-stop trip at ${trip.t}, ${device} first got ${JSON.stringify((next as { command: unknown }).command)}, not its safe state`);
      }
      // Safe now: commanded safe at this trip, or already latched safe by an earlier one since the last Reset.
      const safe = r.deviceLog.some((e) => e.kind === 'command' && e.device === device && e.command.type === 'safeState' && e.t >= lastReset);
      if (!safe) breaches.push(`after the e-stop trip at ${trip.t}, ${device} never got its safe state`);
    }
  }

  // 2. Never Execute without an explicit Start since boot, the last Stop and the last Abort.
  let startSince = false;
  for (const x of r.journal) {
    if (x.kind === 'command' && x.command === 'start' && x.accepted) startSince = true;
    if (x.kind !== 'state') continue;
    if (x.to === 'Stopping' || x.to === 'Stopped' || x.to === 'Aborting' || x.to === 'Aborted') startSince = false;
    if (x.to === 'Execute' && !startSince) breaches.push(`Execute at ${x.t} without a Start since the last stop (${x.cause})`);
  }

  // 3. Stop and Abort accepted wherever PackML allows them (and only there).
  for (const x of r.journal) {
    if (x.kind !== 'command' || (x.command !== 'stop' && x.command !== 'abort')) continue;
    const valid = expectedAfter(x.state as State, x.command as Command) !== undefined;
    if (valid !== x.accepted) breaches.push(`${String(x.command)} in ${String(x.state)} was ${x.accepted ? 'accepted' : `rejected (${String(x.reason)})`}`);
  }
  return breaches;
}
