/**
 * The simulated cell: one simulated device per device in the description, sharing one physical
 * world (parts move from the feeder to the arm to the conveyor), driven only through the
 * DeviceDriver interface, with faults injected from outside and everything that reached the
 * devices written to the device log.
 *
 * The simulator links the first feeder, the first arm and the first conveyor of the description
 * into one pick-and-place line; further devices of those kinds are simulated on their own.
 */
import type { CellDescription, EstopSource } from '../cell/schema.js';
import type { DeviceDriver } from '../devices/types.js';
import type { Clock } from '../time/clock.js';
import { SimArm } from './arm.js';
import { SimConveyor } from './conveyor.js';
import { DeviceLogNone, type DeviceLogEntry, type DeviceLogSink } from './deviceLog.js';
import type { SimDevice } from './device.js';
import { faultProblem, type FaultInjection } from './faults.js';
import { SimFeeder } from './feeder.js';
import { SimIo } from './io.js';
import { SimWorld, type PartCounts, type PartState, type SimPart, type WorldState } from './world.js';

export interface SimOptions {
  /** Seed of the random generator (initial belt offset): the same seed gives the same run. */
  seed: number;
  /** Where the device log goes; discarded if absent. */
  deviceLog?: DeviceLogSink;
  /** Period of readings during motion (joint states, belt position), ms. Default 20. */
  jointStatePeriodMs?: number;
}

export type ScenarioLogEntry = Omit<Extract<DeviceLogEntry, { kind: 'scenario' }>, 't' | 'kind'>;

export interface SimulatedCell {
  readonly cell: CellDescription;
  /** One driver per device in the description, by device name. */
  readonly drivers: ReadonlyMap<string, DeviceDriver>;
  /** Applies a fault now (throws, naming what is wrong, if it does not fit the cell). */
  inject(fault: FaultInjection): void;
  /** Drives an input of an I/O device (the e-stop chain, the guard door switch...). */
  setInput(device: string, channel: string, value: boolean): void;
  /** The physical parts in the cell now (not those that left it), oldest first. */
  parts(): readonly SimPart[];
  counts(): PartCounts;
  /** For the scenario runner: records a scenario action in the device log. */
  logScenario(entry: ScenarioLogEntry): void;
  /** The physical world now: parts, and each device's physical state (src/sim/persist.ts). */
  exportWorld(): SimWorldState;
  /** Takes over a saved world before the drivers are activated (a restarted simulator). */
  importWorld(state: SimWorldState): void;
  /** Called whenever the world has settled after a change. */
  onSettled(listener: (() => void) | undefined): void;
}

export interface SimWorldState {
  world: WorldState;
  devices: Record<string, Record<string, unknown>>;
}

export const DEFAULT_JOINT_STATE_PERIOD_MS = 20;

export function createSimulatedCell(cell: CellDescription, clock: Clock, options: SimOptions): SimulatedCell {
  const period = options.jointStatePeriodMs ?? DEFAULT_JOINT_STATE_PERIOD_MS;
  if (!(typeof period === 'number' && period > 0 && Number.isFinite(period))) {
    throw new RangeError(`jointStatePeriodMs must be a positive number of milliseconds (got ${String(period)})`);
  }
  const world = new SimWorld(clock, options.deviceLog ?? new DeviceLogNone(), options.seed);
  const deviceOptions = { motionPublishPeriodMs: period };
  const devices = new Map<string, SimDevice>();
  for (const [name, description] of Object.entries(cell.devices)) {
    let device: SimDevice;
    switch (description.kind) {
      case 'feeder':
        device = new SimFeeder(name, description, world, deviceOptions);
        break;
      case 'arm':
        device = new SimArm(name, description, world, deviceOptions);
        break;
      case 'conveyor':
        device = new SimConveyor(name, description, world, deviceOptions);
        break;
      case 'io':
        device = new SimIo(name, description, world, deviceOptions);
        break;
    }
    devices.set(name, device);
    world.join(device);
  }
  const all = [...devices.values()];
  const feeder = all.find((d): d is SimFeeder => d instanceof SimFeeder);
  const conveyor = all.find((d): d is SimConveyor => d instanceof SimConveyor);
  for (const arm of all) {
    if (!(arm instanceof SimArm)) continue;
    arm.connect({
      ...(feeder ? { feeder: feeder.name } : {}),
      ...(conveyor ? { placeOnBelt: (part: PartState, by: string) => conveyor.placePart(part, by) } : {}),
    });
  }
  world.changed();

  const ioInput = (device: string, channel: string, what: string): { io: SimIo; channel: string } => {
    const io = devices.get(device);
    if (io === undefined) throw new Error(`${what}: no device "${device}" in the cell (have: ${[...devices.keys()].join(', ')})`);
    if (!(io instanceof SimIo)) throw new Error(`${what}: "${device}" is a ${io.kind}; only inputs of io devices are driven from outside (use sensor_stuck for others)`);
    const inputs = io.inputNames();
    if (!inputs.includes(channel)) throw new Error(`${what}: io device "${device}" has no input "${channel}" (have: ${inputs.join(', ') || 'none'})`);
    return { io, channel };
  };
  const channelRef = (ref: string, what: string) => {
    const [device = '', channel = ''] = ref.split('.');
    return ioInput(device, channel, what);
  };

  const drive = (target: { io: SimIo; channel: string }, value: boolean) => {
    world.log({ kind: 'input', device: target.io.name, channel: target.channel, value });
    target.io.setInput(target.channel, value);
  };

  const inject = (fault: FaultInjection): void => {
    const problem = faultProblem(cell, fault);
    if (problem !== undefined) throw new Error(`cannot inject fault: ${problem}`);
    // Resolve everything before logging, so a fault that cannot apply leaves no trace.
    let input: { io: SimIo; channel: string } | undefined;
    if (fault.fault === 'estop') {
      const source = cell.safety.estopSources.find(
        (s): s is Extract<EstopSource, { kind: 'input' }> => s.kind === 'input' && (fault.source === undefined || s.name === fault.source),
      )!;
      input = channelRef(source.input, `estop source "${source.name}"`);
    } else if (fault.fault === 'guard_door') {
      const stop = cell.safety.protectiveStops.find((s) => s.name === (fault.stop ?? 'guard_door'))!;
      input = channelRef(stop.input, `protective stop "${stop.name}"`);
    }
    world.atomically(() => {
      world.log({ kind: 'fault', fault: structuredClone(fault) });
      switch (fault.fault) {
        case 'estop':
          // The e-stop input is the chain's auxiliary contact: true while healthy.
          drive(input!, !fault.pressed);
          return;
        case 'guard_door':
          // The protective-stop input is true while the guard is closed.
          drive(input!, !fault.open);
          return;
      }
      const device = devices.get(fault.device)!;
      switch (fault.fault) {
        case 'missed_steps':
          (device as SimConveyor).missSteps(fault.steps);
          break;
        case 'feeder_jam':
          (device as SimFeeder).jam(fault.count ?? 1);
          break;
        case 'arm_stall':
          (device as SimArm).stall(fault.fraction, fault.count ?? 1);
          break;
        case 'sensor_stuck':
          device.stickInput(fault.channel, fault.value);
          break;
        case 'sensor_release':
          device.stickInput(fault.channel, undefined);
          break;
        case 'lost_message':
          if (fault.direction === 'command') device.dropCommands(fault.count ?? 1);
          else device.loseFeedback(fault.count ?? 1, fault.feedbackType);
          break;
        case 'corrupted_message':
          device.corruptCommands(fault.count ?? 1);
          break;
        case 'mcu_reset':
          device.reboot('microcontroller reset (injected mcu_reset)');
          break;
        case 'heartbeat_silent':
          device.goSilent(fault.durationMs);
          break;
      }
    });
  };

  return {
    cell,
    drivers: devices as ReadonlyMap<string, DeviceDriver>,
    inject,
    setInput(device, channel, value) {
      if (typeof value !== 'boolean') throw new TypeError(`setInput ${device}.${channel}: value must be true or false (got ${String(value)})`);
      const target = ioInput(device, channel, `setInput ${device}.${channel}`);
      world.atomically(() => drive(target, value));
    },
    parts() {
      return world.allParts().map((part): SimPart => {
        const l = part.location;
        const base: SimPart = { id: part.id, where: l.where, device: l.device };
        if (l.where === 'pick' && l.heldBy !== undefined) base.heldBy = l.heldBy;
        if (l.where === 'belt') {
          const belt = devices.get(l.device);
          const x = belt instanceof SimConveyor ? belt.positionOf(part) : undefined;
          if (x !== undefined) base.positionMm = x;
        }
        return base;
      });
    },
    counts: () => world.counts(),
    logScenario(entry) {
      world.log({ kind: 'scenario', ...entry });
    },
    exportWorld() {
      const state: SimWorldState = { world: world.exportState(), devices: {} };
      for (const [name, device] of devices) {
        const physics = device.exportPhysics();
        if (physics !== undefined) state.devices[name] = physics;
      }
      return state;
    },
    importWorld(state) {
      world.atomically(() => {
        world.importState(state.world);
        // Arms last: a release that finished while the simulator was down puts its part on a belt
        // that must already stand where it stood.
        const ordered = [...devices].sort(([, a], [, b]) => Number(a instanceof SimArm) - Number(b instanceof SimArm));
        for (const [name, device] of ordered) device.importPhysics(state.devices[name] ?? {});
        world.changed();
      });
    },
    onSettled(listener) {
      world.onSettled = listener;
    },
  };
}
