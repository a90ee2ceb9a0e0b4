/** Shared set-up for the simulator tests: the demo cell on a VirtualClock, and a few drive helpers. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { cellSchema, type ArmDescription, type CellDescription, type ConveyorDescription, type FeederDescription } from '../../src/cell/schema.js';
import type { DeviceCommand, DeviceDriver, DeviceFeedback } from '../../src/devices/types.js';
import { createSimulatedCell, DeviceLogMemory, type SimOptions, type SimulatedCell } from '../../src/sim/index.js';
import { VirtualClock } from '../../src/time/clock.js';

export const DEMO_PATH = fileURLToPath(new URL('../../hardware/cells/demo.yaml', import.meta.url));

export function demoCell(): CellDescription {
  return cellSchema.parse(YAML.parse(readFileSync(DEMO_PATH, 'utf8')));
}

export interface Received {
  t: number;
  feedback: DeviceFeedback;
}

export class Harness {
  readonly clock = new VirtualClock();
  readonly log = new DeviceLogMemory();
  readonly sim: SimulatedCell;
  readonly received = new Map<string, Received[]>();
  readonly cell: CellDescription;

  constructor(options: Partial<SimOptions> & { cell?: CellDescription; activate?: boolean } = {}) {
    this.cell = options.cell ?? demoCell();
    this.sim = createSimulatedCell(this.cell, this.clock, { seed: options.seed ?? 1, deviceLog: this.log, ...(options.jointStatePeriodMs ? { jointStatePeriodMs: options.jointStatePeriodMs } : {}) });
    for (const [name, driver] of this.sim.drivers) {
      const list: Received[] = [];
      this.received.set(name, list);
      driver.onFeedback((feedback) => list.push({ t: this.clock.now(), feedback }));
      if (options.activate !== false) {
        driver.configure();
        driver.activate();
      }
    }
  }

  get feeder(): DeviceDriver {
    return this.sim.drivers.get('feeder')!;
  }
  get arm(): DeviceDriver {
    return this.sim.drivers.get('arm')!;
  }
  get conveyor(): DeviceDriver {
    return this.sim.drivers.get('conveyor')!;
  }
  get io(): DeviceDriver {
    return this.sim.drivers.get('safety_io')!;
  }
  get armDesc(): ArmDescription {
    return this.cell.devices.arm as ArmDescription;
  }
  get feederDesc(): FeederDescription {
    return this.cell.devices.feeder as FeederDescription;
  }
  get conveyorDesc(): ConveyorDescription {
    return this.cell.devices.conveyor as ConveyorDescription;
  }

  pose(name: string): number[] {
    return [...this.armDesc.poses[name]!];
  }

  feedbackOf(device: string, type?: DeviceFeedback['type']): Received[] {
    const all = this.received.get(device) ?? [];
    return type === undefined ? all : all.filter((r) => r.feedback.type === type);
  }

  /** Steps the clock until `done()` holds; fails if it does not within `limitMs` of virtual time. */
  runUntil(done: () => boolean, limitMs = 60_000): void {
    const limit = this.clock.now() + limitMs;
    while (!done()) {
      const due = this.clock.nextDue();
      if (due === undefined || due > limit) throw new Error(`condition not met within ${limitMs} ms (now ${this.clock.now()} ms)`);
      this.clock.step();
    }
  }

  /** Sends a command and runs until the device reports motionDone for it; returns the time it took. */
  motion(device: string, command: DeviceCommand, limitMs = 60_000): number {
    const before = this.feedbackOf(device, 'motionDone').length;
    const start = this.clock.now();
    this.sim.drivers.get(device)!.write(command);
    this.runUntil(() => this.feedbackOf(device, 'motionDone').length > before, limitMs);
    return this.clock.now() - start;
  }

  moveArm(pose: string): number {
    return this.motion('arm', { type: 'move', pose, target: this.pose(pose) });
  }

  /** Release a part and wait until it rests at the pick position (part_at_pick true). */
  feed(): void {
    this.motion('feeder', { type: 'release' });
    this.runUntil(() => this.feeder.read().inputs.part_at_pick === true, 1000);
  }

  grip(): void {
    this.arm.write({ type: 'vacuum', on: true });
    this.runUntil(() => this.arm.read().inputs.vacuum_ok === true, 1000);
  }

  letGo(): void {
    this.arm.write({ type: 'vacuum', on: false });
    this.runUntil(() => this.arm.read().inputs.vacuum_ok === false, 1000);
  }

  /** One part from the feeder onto the belt at the place position; the arm ends above the place. */
  feedPickPlace(): void {
    this.feed();
    this.moveArm('above_pick');
    this.moveArm('pick');
    this.grip();
    this.moveArm('above_pick');
    this.moveArm('above_place');
    this.moveArm('place');
    this.letGo();
    this.moveArm('above_place');
  }

  home(): void {
    this.motion('conveyor', { type: 'home' });
  }

  indexSteps(): number {
    return Math.round(this.conveyorDesc.indexMm * this.conveyorDesc.axis.stepsPerMm);
  }

  /** Runs the clock for `ms` of virtual time. */
  wait(ms: number): void {
    this.clock.advanceBy(ms);
  }
}
