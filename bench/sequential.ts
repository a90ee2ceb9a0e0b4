/**
 * A strictly sequential sequencer, for comparison with the controller: it drives the same
 * simulated devices (src/sim, the same description, seed and virtual clock) one step at a time —
 * feed, pick, place, index, return — waiting for each step's confirmation before the next, with
 * the controller's confirmations (motion done and the measured postcondition: the part at the
 * pick, the pose reached, vacuum on/off, the encoder at the target and the part at the exit).
 * No overlap between stations, no safety, no recovery: it only measures what overlap buys.
 */
import { loadCell } from '../src/cell/load.js';
import type { CellDescription } from '../src/cell/schema.js';
import { atPose } from '../src/cell/kinematics.js';
import type { DeviceCommand, DeviceDriver } from '../src/devices/types.js';
import { pickPlaceDevices } from '../src/controller/throughput.js';
import { createSimulatedCell } from '../src/sim/index.js';
import { VirtualClock } from '../src/time/clock.js';

export interface SequentialResult {
  parts: number;
  partsPerMinute: number;
  /** Simulated ms from the first release to the last exit. */
  spanMs: number;
}

export function runSequential(cellPath: string, parts: number, seed: number): SequentialResult {
  const loaded = loadCell(cellPath);
  if (!loaded.ok) throw new Error(`${cellPath}: ${loaded.problems.map((p) => `${p.line}:${p.col} ${p.path}: ${p.message}`).join('; ')}`);
  const cell: CellDescription = loaded.cell;
  const clock = new VirtualClock();
  const sim = createSimulatedCell(cell, clock, { seed });
  const { feeder, arm, conveyor } = pickPlaceDevices(cell);
  const drivers = sim.drivers;
  for (const d of drivers.values()) d.configure();
  for (const d of drivers.values()) d.activate();
  const driver = (name: string): DeviceDriver => drivers.get(name)!;
  const motionDone = new Map<string, number>();
  for (const [name, d] of drivers) d.onFeedback((fb) => fb.type === 'motionDone' && motionDone.set(name, (motionDone.get(name) ?? 0) + 1));

  const until = (what: string, done: () => boolean, limitMs = 30_000) => {
    const end = clock.now() + limitMs;
    while (!done()) {
      if (clock.now() > end || !clock.step()) throw new Error(`sequential sequencer: ${what} not confirmed by t=${clock.now()} ms`);
    }
  };
  /**
   * Send a command and wait for its confirmation, as the controller's steps do: a motion (move,
   * home, index) needs its motionDone and the measured postcondition; a release or a vacuum
   * change is confirmed by the measurement alone.
   */
  const step = (device: string, command: DeviceCommand, what: string, confirmed: () => boolean) => {
    const before = motionDone.get(device) ?? 0;
    const needsMotionDone = command.type === 'move' || command.type === 'home' || command.type === 'index';
    driver(device).write(command);
    until(what, () => (!needsMotionDone || (motionDone.get(device) ?? 0) > before) && confirmed());
  };
  const pose = (name: string) => arm.desc.poses[name]!;
  const armTo = (name: string, extra: () => boolean = () => true) =>
    step(arm.name, { type: 'move', pose: name, target: pose(name) }, `arm to ${name}`, () => {
      const r = driver(arm.name).read();
      return !r.moving && r.joints !== undefined && atPose(r.joints, pose(name), arm.desc.toleranceRad) && extra();
    });
  const read = (device: string) => driver(device).read();

  // Reset position: the conveyor homed, the arm above the pick.
  step(conveyor.name, { type: 'home' }, 'conveyor homed', () => read(conveyor.name).axis?.homed === true && read(conveyor.name).inputs.home === true);
  armTo('above_pick');

  const c = conveyor.desc;
  const countsPerMm = c.axis.encoderCountsPerMm;
  let target = read(conveyor.name).axis!.encoderCount;
  let firstRelease: number | undefined;
  let lastExit = 0;
  for (let i = 0; i < parts; i++) {
    firstRelease ??= clock.now();
    step(feeder.name, { type: 'release' }, 'part at the pick', () => read(feeder.name).inputs.part_at_pick === true);
    armTo('pick');
    step(arm.name, { type: 'vacuum', on: true }, 'vacuum on', () => read(arm.name).inputs.vacuum_ok === true);
    armTo('above_pick', () => read(feeder.name).inputs.part_at_pick === false);
    armTo('above_place');
    armTo('place');
    step(arm.name, { type: 'vacuum', on: false }, 'vacuum off', () => read(arm.name).inputs.vacuum_ok === false);
    armTo('above_place');
    // Like the controller, index only once the downstream has taken the previous part away.
    until('exit clear', () => read(conveyor.name).inputs.part_at_exit === false);
    target += c.indexMm * countsPerMm;
    const steps = Math.round(((target - read(conveyor.name).axis!.encoderCount) / countsPerMm) * c.axis.stepsPerMm);
    step(conveyor.name, { type: 'index', steps }, 'index to the exit', () => {
      const r = read(conveyor.name);
      return Math.abs(r.axis!.encoderCount - target) <= c.axis.toleranceMm * countsPerMm && r.inputs.part_at_exit === true;
    });
    lastExit = clock.now();
    armTo('above_pick');
  }
  until('last part taken away', () => read(conveyor.name).inputs.part_at_exit === false);
  for (const d of drivers.values()) d.deactivate();
  const exited = sim.counts().takenAway;
  if (exited !== parts) throw new Error(`sequential sequencer: ${exited} of ${parts} parts were taken away at the exit`);
  const spanMs = lastExit - firstRelease!;
  return { parts, partsPerMinute: (parts / spanMs) * 60_000, spanMs };
}
