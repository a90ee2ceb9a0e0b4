import { describe, expect, it } from 'vitest';
import type { DeviceCommand, Reading } from '../../src/devices/types.js';
import { InterlockTable, type LiveState } from '../../src/safety/interlocks.js';
import { demoCell } from '../controller/helpers.js';

const cell = demoCell();
const arm = cell.devices.arm!;
if (arm.kind !== 'arm') throw new Error('demo arm');
const poses = arm.poses;

/** Live state as plain data: what the controller's process image would hold. */
function live(over: {
  joints?: number[];
  armTarget?: number[];
  conveyorMoving?: boolean;
  feederMoving?: boolean;
  partAtPick?: boolean;
  guardClosed?: boolean;
}): LiveState {
  const readings: Record<string, Reading> = {
    arm: { inputs: { vacuum_ok: false }, outputs: { vacuum: false }, moving: over.armTarget !== undefined, joints: over.joints ?? poses.above_pick! },
    feeder: { inputs: { part_at_pick: over.partAtPick ?? false }, outputs: { release: false }, moving: over.feederMoving ?? false },
    conveyor: { inputs: { home: true, part_at_exit: false }, outputs: {}, moving: over.conveyorMoving ?? false, axis: { positionSteps: 0, encoderCount: 0, homed: true } },
    safety_io: { inputs: { estop_ok: true, guard_closed: over.guardClosed ?? true }, outputs: { lamp_red: false, lamp_green: true }, moving: false },
  };
  return {
    reading: (d) => readings[d],
    motionInFlight: (d) => (d === 'arm' && over.armTarget !== undefined) || (d === 'conveyor' && !!over.conveyorMoving) || (d === 'feeder' && !!over.feederMoving),
    armTarget: () => over.armTarget,
  };
}

const table = new InterlockTable(cell);
const names = (device: string, cmd: DeviceCommand, l: LiveState) => table.refusals(device, cmd, l).map((r) => r.interlock);
const index: DeviceCommand = { type: 'index', steps: 3000 };
const release: DeviceCommand = { type: 'release' };
const moveTo = (p: string): DeviceCommand => ({ type: 'move', pose: p, target: poses[p]! });

describe('interlock table on live state', () => {
  it('keeps the conveyor still while the arm is in the conveyor zone', () => {
    expect(names('conveyor', index, live({ joints: poses.place! }))).toEqual(['belt_still_while_arm_over_belt']);
    expect(names('conveyor', index, live({ joints: poses.above_place! }))).toEqual([]);
  });

  it('counts a descent under way as occupying the zone before the arm gets there', () => {
    expect(names('conveyor', index, live({ joints: poses.above_place!, armTarget: poses.place! }))).toEqual(['belt_still_while_arm_over_belt']);
    // Lifting out: the remaining path no longer enters the zone once the arm has left it.
    expect(names('conveyor', index, live({ joints: poses.above_place!, armTarget: poses.above_pick! }))).toEqual([]);
  });

  it('refuses a descent to place while the conveyor moves, but not other arm moves', () => {
    expect(names('arm', moveTo('place'), live({ joints: poses.above_place!, conveyorMoving: true }))).toEqual(['no_place_while_belt_moves']);
    expect(names('arm', moveTo('above_pick'), live({ joints: poses.above_place!, conveyorMoving: true }))).toEqual([]);
  });

  it('refuses a release onto an occupied pick or onto the gripper', () => {
    expect(names('feeder', release, live({ partAtPick: true }))).toEqual(['no_release_onto_occupied_pick']);
    expect(names('feeder', release, live({ joints: poses.pick! }))).toEqual(['no_release_onto_gripper']);
    expect(names('feeder', release, live({}))).toEqual([]);
  });

  it('stops every motion while the guard door is open, but not a safe-state command', () => {
    const open = live({ guardClosed: false });
    expect(names('feeder', release, open)).toContain('nothing_moves_with_guard_open');
    expect(names('conveyor', { type: 'home' }, open)).toContain('nothing_moves_with_guard_open');
    expect(names('arm', moveTo('home'), open)).toContain('nothing_moves_with_guard_open');
    expect(names('arm', { type: 'safeState', category: 1 }, open)).toEqual([]);
    expect(names('arm', { type: 'vacuum', on: false }, open)).toEqual([]);
  });

  it('treats an unknown input value as the dangerous one', () => {
    const l = live({});
    const blind: LiveState = { ...l, reading: (d) => (d === 'safety_io' ? { inputs: {}, outputs: {}, moving: false } : l.reading(d)) };
    expect(names('conveyor', index, blind)).toContain('nothing_moves_with_guard_open');
  });

  it('reports the live value of every rule', () => {
    const active = table.activeRules(live({ joints: poses.pick!, conveyorMoving: true, partAtPick: true }));
    expect([...active].sort()).toEqual(['no_place_while_belt_moves', 'no_release_onto_gripper', 'no_release_onto_occupied_pick']);
  });
});
