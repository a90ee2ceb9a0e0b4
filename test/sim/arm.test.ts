import { describe, expect, test } from 'vitest';
import type { Reading } from '../../src/devices/types.js';
import { ARM_STOP_MS } from '../../src/sim/index.js';
import { Harness } from './helpers.js';

function within(q: readonly number[], pose: readonly number[], tol: number): boolean {
  return q.every((v, j) => Math.abs(v - pose[j]!) <= tol);
}

describe('simulated arm: motion', () => {
  test('starts at the home pose', () => {
    const h = new Harness();
    expect(h.arm.read().joints).toEqual(h.pose('home'));
  });

  test('a move takes max_j(|Δq_j| / v_j) + settle_ms; joints interpolate linearly and are published every period', () => {
    const h = new Harness({ jointStatePeriodMs: 20 });
    const from = h.pose('home');
    const to = h.pose('above_place');
    const travelMs = Math.max(...h.armDesc.joints.map((j, i) => (Math.abs(to[i]! - from[i]!) / j.maxVelocityRadS) * 1000));
    expect(travelMs).toBeCloseTo(900, 9); // joint_1 sets the pace: 0.9 rad at 1 rad/s

    const took = h.moveArm('above_place');
    expect(took).toBeCloseTo(travelMs + h.armDesc.settleMs, 9);
    expect(h.arm.read().joints).toEqual(to);
    expect(h.arm.read().moving).toBe(false);

    const readings = h.feedbackOf('arm', 'reading').filter((r) => r.t > 0) as { t: number; feedback: { type: 'reading'; reading: Reading } }[];
    const duringTravel = readings.filter((r) => r.t < travelMs);
    expect(duringTravel.map((r) => r.t)).toEqual(Array.from({ length: 44 }, (_, i) => 20 * (i + 1)));
    for (const r of duringTravel) {
      const s = r.t / travelMs;
      r.feedback.reading.joints!.forEach((q, j) => expect(q).toBeCloseTo(from[j]! + s * (to[j]! - from[j]!), 12));
      expect(r.feedback.reading.moving).toBe(true);
    }
    // At the end of travel the joints are on target but the arm is still settling.
    const atTravelEnd = readings.find((r) => r.t === travelMs)!;
    expect(atTravelEnd.feedback.reading).toMatchObject({ joints: to, moving: true });
    const done = h.feedbackOf('arm', 'motionDone');
    expect(done).toHaveLength(1);
    expect(done[0]!.t).toBeCloseTo(travelMs + h.armDesc.settleMs, 9);
  });

  test('a target outside the joint limits is refused, naming the joint', () => {
    const h = new Harness();
    const target = h.pose('home');
    target[1] = 2.5; // joint_2 is limited to [-2, 2]
    h.arm.write({ type: 'move', pose: 'nowhere', target });
    const [refused] = h.feedbackOf('arm', 'refused');
    expect(refused?.feedback).toMatchObject({ reason: expect.stringMatching(/joint_2 .*outside its limits/) });
    h.arm.write({ type: 'move', pose: 'short', target: [0, 0] });
    expect(h.feedbackOf('arm', 'refused')[1]?.feedback).toMatchObject({ reason: expect.stringContaining('6 joint values') });
    h.wait(2000);
    expect(h.arm.read().joints).toEqual(h.pose('home'));
    expect(h.log.ofKind('motion')).toEqual([]);
  });

  test('a second move while moving is refused as busy', () => {
    const h = new Harness();
    h.arm.write({ type: 'move', pose: 'above_pick', target: h.pose('above_pick') });
    h.wait(10);
    h.arm.write({ type: 'move', pose: 'place', target: h.pose('place') });
    expect(h.feedbackOf('arm', 'refused')[0]?.feedback).toMatchObject({ reason: expect.stringContaining('busy') });
  });

  test('an injected stall leaves the arm short of its target and still reports motionDone at the nominal end', () => {
    const h = new Harness();
    const from = h.pose('home');
    const to = h.pose('above_place');
    h.sim.inject({ fault: 'arm_stall', device: 'arm', fraction: 0.5 });
    const took = h.moveArm('above_place');
    expect(took).toBeCloseTo(900 + h.armDesc.settleMs, 9);
    const q = h.arm.read().joints!;
    q.forEach((v, j) => expect(v).toBeCloseTo(from[j]! + 0.5 * (to[j]! - from[j]!), 12));
    expect(within(q, to, h.armDesc.toleranceRad)).toBe(false);
    expect(h.log.ofKind('motion').at(-1)).toMatchObject({ event: 'end', how: 'stalled' });
    // The stall is used up: the next move arrives.
    h.moveArm('above_place');
    expect(h.arm.read().joints).toEqual(to);
  });

  test('a stall with a count stalls that many moves', () => {
    const h = new Harness();
    h.sim.inject({ fault: 'arm_stall', device: 'arm', fraction: 0, count: 2 });
    h.moveArm('above_pick');
    h.moveArm('above_pick');
    expect(h.arm.read().joints).toEqual(h.pose('home'));
    h.moveArm('above_pick');
    expect(h.arm.read().joints).toEqual(h.pose('above_pick'));
  });

  test('a controlled stop brings the arm to rest within 100 ms, short of the target', () => {
    const h = new Harness();
    h.arm.write({ type: 'move', pose: 'above_place', target: h.pose('above_place') });
    h.wait(300);
    h.arm.write({ type: 'stop' });
    h.runUntil(() => h.feedbackOf('arm', 'motionDone').length === 1);
    expect(h.clock.now()).toBeLessThanOrEqual(300 + ARM_STOP_MS);
    expect(h.clock.now()).toBeGreaterThan(300);
    const j1 = h.arm.read().joints![0]!;
    // joint_1 runs at 1 rad/s: 0.3 rad at the stop, plus half of 0.1 s at decelerating speed.
    expect(j1).toBeCloseTo(0.3 + 0.05, 9);
    expect(h.arm.read().moving).toBe(false);
  });
});

describe('simulated arm: vacuum gripper', () => {
  test('grips only at the pick pose with a part there, after grip_ms', () => {
    const h = new Harness();
    const gripMs = h.armDesc.gripper.gripMs;
    // A part at pick, but the arm at home: no grip.
    h.feed();
    h.arm.write({ type: 'vacuum', on: true });
    h.wait(1000);
    expect(h.arm.read()).toMatchObject({ outputs: { vacuum: true }, inputs: { vacuum_ok: false } });
    h.arm.write({ type: 'vacuum', on: false });
    // At pick with the part: grip after grip_ms.
    h.moveArm('above_pick');
    h.moveArm('pick');
    const t0 = h.clock.now();
    h.arm.write({ type: 'vacuum', on: true });
    h.clock.advanceTo(t0 + gripMs - 1);
    expect(h.arm.read().inputs.vacuum_ok).toBe(false);
    h.clock.advanceTo(t0 + gripMs);
    expect(h.arm.read().inputs.vacuum_ok).toBe(true);
    expect(h.sim.parts()).toEqual([{ id: 'p1', where: 'pick', device: 'feeder', heldBy: 'arm' }]);
    const gripped = h.log.ofKind('part').filter((e) => e.event === 'gripped');
    expect(gripped).toEqual([{ t: expect.closeTo(t0 + gripMs, 3), kind: 'part', part: 'p1', event: 'gripped', device: 'arm' }]);
  });

  test('at the pick pose with no part, vacuum_ok stays false', () => {
    const h = new Harness();
    h.moveArm('above_pick');
    h.moveArm('pick');
    h.arm.write({ type: 'vacuum', on: true });
    h.wait(2000);
    expect(h.arm.read().inputs.vacuum_ok).toBe(false);
    expect(h.log.ofKind('part')).toEqual([]);
  });

  test('part_at_pick goes false with the first joint reading outside the pick tolerance', () => {
    const h = new Harness({ jointStatePeriodMs: 20 });
    h.feed();
    h.moveArm('above_pick');
    h.moveArm('pick');
    h.grip();
    expect(h.feeder.read().inputs.part_at_pick).toBe(true);
    const t0 = h.clock.now();
    h.arm.write({ type: 'move', pose: 'above_pick', target: h.pose('above_pick') });
    expect(h.feeder.read().inputs.part_at_pick).toBe(true);
    h.clock.advanceTo(t0 + 19);
    expect(h.sim.parts()[0]?.where).toBe('pick');
    h.clock.advanceTo(t0 + 20); // first joint reading, already 0.03 rad from pick on joint_5
    expect(h.sim.parts()[0]).toEqual({ id: 'p1', where: 'gripper', device: 'arm' });
    h.clock.advanceTo(t0 + 20 + h.feederDesc.partAtPick.debounceMs);
    expect(h.feeder.read().inputs.part_at_pick).toBe(false);
  });

  test('released at the place pose, the part lands on the belt at place_position_mm', () => {
    const h = new Harness();
    h.feedPickPlace();
    expect(h.sim.parts()).toEqual([{ id: 'p1', where: 'belt', device: 'conveyor', positionMm: h.conveyorDesc.placePositionMm }]);
    const placed = h.log.ofKind('part').find((e) => e.event === 'placed');
    expect(placed).toMatchObject({ part: 'p1', device: 'arm', positionMm: h.conveyorDesc.placePositionMm });
    expect(h.arm.read().inputs.vacuum_ok).toBe(false);
  });

  test('released anywhere else, the part is dropped and stays in the cell', () => {
    const h = new Harness();
    h.feed();
    h.moveArm('above_pick');
    h.moveArm('pick');
    h.grip();
    h.moveArm('above_pick');
    h.moveArm('above_place');
    const t0 = h.clock.now();
    h.arm.write({ type: 'vacuum', on: false });
    h.clock.advanceTo(t0 + h.armDesc.gripper.releaseMs - 1);
    expect(h.arm.read().inputs.vacuum_ok).toBe(true);
    h.clock.advanceTo(t0 + h.armDesc.gripper.releaseMs);
    expect(h.arm.read().inputs.vacuum_ok).toBe(false);
    expect(h.sim.parts()).toEqual([{ id: 'p1', where: 'floor', device: 'arm' }]);
    expect(h.sim.counts()).toMatchObject({ dropped: 1, inCell: 1 });
  });

  test('safe state stops the arm and the vacuum (safe value hold) keeps holding the part', () => {
    const h = new Harness();
    h.feed();
    h.moveArm('above_pick');
    h.moveArm('pick');
    h.grip();
    h.moveArm('above_pick');
    h.arm.write({ type: 'move', pose: 'above_place', target: h.pose('above_place') });
    h.wait(500);
    const t0 = h.clock.now();
    h.arm.write({ type: 'safeState', category: 1 });
    h.runUntil(() => h.feedbackOf('arm', 'motionDone').length === 4);
    expect(h.clock.now() - t0).toBeLessThanOrEqual(ARM_STOP_MS);
    h.wait(5000);
    expect(h.arm.read()).toMatchObject({ moving: false, outputs: { vacuum: true }, inputs: { vacuum_ok: true } });
    expect(h.sim.parts()).toEqual([{ id: 'p1', where: 'gripper', device: 'arm' }]);
    expect(within(h.arm.read().joints!, h.pose('above_place'), h.armDesc.toleranceRad)).toBe(false);
    expect(h.log.ofKind('output').filter((e) => e.device === 'arm').map((e) => e.value)).toEqual([true]);
  });

  test('safe state category 0 freezes the joints at once', () => {
    const h = new Harness();
    h.arm.write({ type: 'move', pose: 'above_place', target: h.pose('above_place') });
    h.wait(400);
    const before = h.arm.read().joints;
    h.arm.write({ type: 'safeState', category: 0 });
    expect(h.arm.read().moving).toBe(false);
    expect(h.feedbackOf('arm', 'motionDone').map((r) => r.t)).toEqual([400]);
    h.wait(1000);
    expect(h.arm.read().joints).toEqual(before);
    expect(h.arm.read().joints![0]).toBeCloseTo(0.4, 12);
  });
});
