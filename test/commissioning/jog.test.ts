/**
 * Jog in Manual mode, on the simulator in virtual time: hold-to-run renewals on the safety clock,
 * the reduced speed from the description, refusals outside Manual mode and wait states, interlocks
 * and the e-stop exactly as in Production.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DemoCell } from '../controller/runHarness.js';
import { armJoints, commissioningCell, conveyorSteps, moving, records, rejection, view } from './helpers.js';

let cell: DemoCell | undefined;
afterEach(() => {
  cell?.close();
  cell = undefined;
});

function manualCell(edit?: (text: string) => string): DemoCell {
  cell = commissioningCell(edit);
  expect(rejection(cell, 'mode manual')).toBeUndefined();
  return cell;
}


/**
 * Jog renewed every 100 ms for 2 s; the fastest joint_4 speed seen, rad/s. Joint states are
 * published periodically, so the speed is taken over 200 ms windows (callers allow one publication
 * period of quantisation).
 */
function fastestJoint4Speed(c: ReturnType<typeof manualCell>): number {
    let fastest = 0;
    let before = armJoints(c)[3]!;
    for (let ms = 0; ms < 2000; ms += 200) {
      for (let k = 0; k < 2; k++) {
        c.advance(100);
        c.send('jog renew');
      }
      const now = armJoints(c)[3]!;
      fastest = Math.max(fastest, Math.abs(now - before) / 0.2);
      before = now;
    }
    return fastest;
}

describe('hold-to-run', () => {
  it('a continuous conveyor jog moves while renewed and stops within the renewal timeout when renewals stop', () => {
    const c = manualCell();
    const timeout = c.run.cell.commissioning.jogRenewTimeoutMs;
    expect(rejection(c, 'jog conveyor + continuous')).toBeUndefined();
    const start = conveyorSteps(c);
    for (let i = 0; i < 15; i++) {
      c.advance(100);
      c.send('jog renew');
    }
    const whileHeld = conveyorSteps(c);
    expect(moving(c, 'conveyor')).toBe(true);
    // Renewals kept it going for 1.5 s: far more than one increment (360 steps).
    expect(whileHeld - start).toBeGreaterThan(1200);
    const lastRenewal = c.clock.now();
    // Renewals stop. Within the timeout (plus the controlled stop's deceleration) the belt stands still.
    c.advance(timeout + 200);
    expect(moving(c, 'conveyor')).toBe(false);
    const stoppedAt = conveyorSteps(c);
    c.advance(2000);
    expect(conveyorSteps(c)).toBe(stoppedAt);
    const end = records(c, 'commissioning', 'jog.end').at(-1)!;
    expect(end.why).toMatch(/no renewal within 300 ms/);
    expect(end.t as number).toBeLessThanOrEqual(lastRenewal + timeout + 1);
    // The stop was commanded, journaled with its cause.
    expect(records(c, 'device.command').some((r) => r.device === 'conveyor' && (r.command as { type: string }).type === 'stop' && String(r.cause).startsWith('jog:'))).toBe(true);
    expect(view(c).jog).toBeNull();
    // A renewal after the end renews nothing.
    expect(rejection(c, 'jog renew')).toBe('no jog is active to renew');
  });

  it('without any renewal a jog makes one increment and no more', () => {
    const c = manualCell();
    expect(rejection(c, 'jog arm joint_1 + continuous')).toBeUndefined();
    c.advance(3000);
    expect(records(c, 'commissioning', 'jog.increment')).toHaveLength(1);
    expect(moving(c, 'arm')).toBe(false);
    const moved = armJoints(c)[0]!;
    // One increment: at most jog_joint_speed x renewal timeout.
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThanOrEqual(0.25 * 0.3 + 1e-9);
  });

  it('a distance jog longer than one increment also needs renewals, and stops where they stop', () => {
    const c = manualCell();
    expect(rejection(c, 'jog conveyor +200')).toBeUndefined();
    c.advance(2000);
    const steps = conveyorSteps(c);
    // 200 mm asked, one increment made (well short of 2000 steps) because nobody held the button.
    expect(steps).toBeGreaterThan(0);
    expect(steps).toBeLessThan(2000);
    expect(records(c, 'commissioning', 'jog.end').at(-1)!.why).toMatch(/no renewal/);
  });

  it('a renewed distance jog moves exactly the distance and ends done', () => {
    const c = manualCell();
    expect(rejection(c, 'jog conveyor -40mm')).toBeUndefined();
    for (let i = 0; i < 20 && view(c).jog; i++) {
      c.advance(100);
      if (view(c).jog) c.send('jog renew');
    }
    c.advance(500);
    expect(conveyorSteps(c)).toBe(-400);
    expect(records(c, 'commissioning', 'jog.end').at(-1)!.why).toBe('done');
  });

  it('a distance jog in increments that are not whole motor steps still moves exactly the distance', () => {
    // At 100 mm/s one increment covers 23.75 mm (237.5 steps): rounding each increment on its own
    // would add up to a different distance than asked.
    const c = manualCell();
    expect(rejection(c, 'jog conveyor +100 at 100')).toBeUndefined();
    for (let i = 0; i < 40 && view(c).jog; i++) {
      c.advance(100);
      if (view(c).jog) c.send('jog renew');
    }
    c.advance(500);
    expect(records(c, 'commissioning', 'jog.increment').length).toBeGreaterThan(3);
    expect(conveyorSteps(c)).toBe(1000);
    expect(records(c, 'commissioning', 'jog.end').at(-1)!.why).toBe('done');
    // A distance is taken to the nearest motor step (0.1 mm here), and ends done there too.
    expect(rejection(c, 'jog conveyor -10.03')).toBeUndefined();
    for (let i = 0; i < 10 && view(c).jog; i++) {
      c.advance(100);
      if (view(c).jog) c.send('jog renew');
    }
    c.advance(500);
    expect(conveyorSteps(c)).toBe(900);
    expect(records(c, 'commissioning', 'jog.end').at(-1)!.why).toBe('done');
    expect(rejection(c, 'jog conveyor +0.04')).toBe('the jog distance is below one motor step');
  });

  it('jog stop ends the jog at once', () => {
    const c = manualCell();
    c.send('jog conveyor + continuous');
    c.advance(50);
    expect(rejection(c, 'jog stop')).toBeUndefined();
    c.advance(200);
    expect(moving(c, 'conveyor')).toBe(false);
    expect(records(c, 'commissioning', 'jog.end').at(-1)!).toMatchObject({ why: 'stopped by the operator', source: 'topic:/workcell/command' });
  });
});

describe('refusals', () => {
  it('refuses a jog in Production mode', () => {
    cell = commissioningCell();
    expect(rejection(cell, 'jog conveyor +10')).toBe('jog is only allowed in Manual mode (send "mode manual" in a wait state); the cell is in production mode');
    cell.advance(1000);
    expect(conveyorSteps(cell)).toBe(0);
  });

  it('refuses a jog in Maintenance mode', () => {
    cell = commissioningCell();
    cell.send('mode maintenance');
    expect(rejection(cell, 'jog arm joint_2 +0.1')).toMatch(/only allowed in Manual mode.*maintenance mode/);
  });

  it('refuses a jog outside a wait state, and ends a running jog when the cell leaves its wait state', () => {
    const c = manualCell();
    c.send('reset');
    expect(c.state).toBe('Resetting');
    expect(rejection(c, 'jog conveyor +10')).toBe('jog is only allowed in a wait state (Stopped, Idle, Complete); the cell is in Resetting');
    c.until('Idle');
    expect(rejection(c, 'jog conveyor + continuous')).toBeUndefined();
    c.send('start');
    expect(records(c, 'commissioning', 'jog.end').at(-1)!.why).toBe('the cell entered Starting');
  });

  it('refuses unknown devices, joints, and what cannot be jogged, naming them', () => {
    const c = manualCell();
    expect(rejection(c, 'jog belt +10')).toBe('no device "belt" (devices: feeder, arm, conveyor, safety_io)');
    expect(rejection(c, 'jog arm joint_9 +0.1')).toBe('arm arm has no joint "joint_9" (joints: joint_1, joint_2, joint_3, joint_4, joint_5, joint_6)');
    expect(rejection(c, 'jog arm +0.1')).toBe('jog arm: name the joint (joint_1, joint_2, joint_3, joint_4, joint_5, joint_6)');
    expect(rejection(c, 'jog feeder +1')).toBe('feeder is a feeder: only a conveyor axis or an arm joint can be jogged');
    expect(rejection(c, 'jog conveyor 10')).toMatch(/"10" is not a direction/);
    expect(rejection(c, 'jog conveyor +10 continuous')).toMatch(/either a distance or continuous/);
  });

  it('refuses a second jog while one is active', () => {
    const c = manualCell();
    c.send('jog conveyor + continuous');
    expect(rejection(c, 'jog arm joint_1 +0.1')).toBe('a jog of conveyor is active (from topic:/workcell/command); send "jog stop" first');
  });
});

describe('reduced speed', () => {
  it('refuses a requested speed above the limit from the description', () => {
    const c = manualCell();
    expect(rejection(c, 'jog conveyor +10 at 400')).toBe('jog speed 400 mm/s exceeds the reduced-speed limit of 250 mm/s (commissioning.jog_speed_mm_s)');
    expect(rejection(c, 'jog arm joint_1 +0.1 at 0.5')).toBe('jog speed 0.5 rad/s exceeds the reduced-speed limit of 0.25 rad/s (commissioning.jog_joint_speed_rad_s)');
  });

  it('the measured belt speed never exceeds jog_speed_mm_s, though the axis could do 400 mm/s', () => {
    const c = manualCell();
    const { stepsPerMm, maxSpeedMmS } = c.run.cell.devices.conveyor!.kind === 'conveyor' ? c.run.cell.devices.conveyor!.axis : ({} as never);
    const limit = c.run.cell.commissioning.jogSpeedMmS;
    expect(maxSpeedMmS).toBeGreaterThan(limit);
    c.send('jog conveyor + continuous');
    let fastest = 0;
    let before = conveyorSteps(c);
    for (let ms = 0; ms < 1500; ms += 5) {
      c.advance(5);
      if (ms % 100 === 0) c.send('jog renew');
      const now = conveyorSteps(c);
      fastest = Math.max(fastest, ((now - before) / stepsPerMm / 5) * 1000);
      before = now;
    }
    // Steps are whole numbers: allow one step of quantisation per 5 ms sample.
    expect(fastest).toBeLessThanOrEqual(limit + 1000 / 5 / stepsPerMm);
    expect(fastest).toBeGreaterThan(limit * 0.8);
  });

  it('a lower limit in the description is the one enforced', () => {
    const c = manualCell((text) => text.replace('safety:\n', 'commissioning:\n  jog_speed_mm_s: 100\n\nsafety:\n'));
    expect(c.run.cell.commissioning.jogSpeedMmS).toBe(100);
    expect(rejection(c, 'jog conveyor +10 at 150')).toMatch(/limit of 100 mm\/s/);
    c.send('jog conveyor + continuous');
    const t0 = c.clock.now();
    for (let i = 0; i < 10; i++) {
      c.advance(100);
      c.send('jog renew');
    }
    const mm = conveyorSteps(c) / 10;
    expect(mm / ((c.clock.now() - t0) / 1000)).toBeLessThanOrEqual(100);
  });

  it('the arm joint moves no faster than jog_joint_speed_rad_s', () => {
    const c = manualCell();
    // joint_4 could turn at 1.5 rad/s.
    c.send('jog arm joint_4 - continuous');
    const fastest = fastestJoint4Speed(c);
    expect(fastest).toBeGreaterThan(0.1);
    expect(fastest).toBeLessThanOrEqual(0.25 * (1 + 20 / 200) + 1e-6);
  });

  it('with the arm\'s reach_mm, a joint jog is slowed so the tool stays within jog_speed_mm_s', () => {
    // 250 mm/s at a tool up to 1250 mm from the joint's axis: at most 0.2 rad/s, below the
    // description's 0.25 rad/s joint jog speed.
    const c = manualCell((text) => text.replace('    settle_ms: 50\n', '    settle_ms: 50\n    reach_mm: 1250\n'));
    const arm = c.run.cell.devices.arm!;
    expect(arm.kind === 'arm' && arm.reachMm).toBe(1250);
    expect(rejection(c, 'jog arm joint_4 +0.1 at 0.21')).toBe(
      'jog speed 0.21 rad/s exceeds the reduced-speed limit of 0.2 rad/s (commissioning.jog_joint_speed_rad_s, and jog_speed_mm_s at the tool over reach_mm 1250)',
    );
    c.send('jog arm joint_4 - continuous');
    expect(view(c).jog).toMatchObject({ device: 'arm', joint: 'joint_4', speed: 0.2, unit: 'rad/s' });
    const fastest = fastestJoint4Speed(c);
    expect(fastest).toBeGreaterThan(0.1);
    // Tool speed ≤ ω · reach: 0.2 rad/s · 1250 mm = 250 mm/s (one joint-state period of quantisation).
    expect(fastest * 1250).toBeLessThanOrEqual(250 * (1 + 20 / 200) + 1e-6);
    expect(fastest).toBeLessThanOrEqual(0.2 * (1 + 20 / 200) + 1e-6);
  });
});

describe('safety in Manual mode', () => {
  const keepOut = (text: string) =>
    text
      .replace('  zones:\n', '  zones:\n    keep_out: { device: arm, joints: { joint_2: [-1.0, -0.8] }, margin_rad: 0 }\n')
      .replace(
        '  interlocks:\n',
        '  interlocks:\n    - name: never_into_keep_out\n      forbid: { device: arm, into_zone: keep_out }\n      when: { input: safety_io.estop_ok, is: true }\n',
      );

  it('an interlock refuses the jog increment that would enter a forbidden zone; the arm never enters it', () => {
    const c = manualCell(keepOut);
    expect(armJoints(c)[1]).toBeCloseTo(-1.2);
    expect(rejection(c, 'jog arm joint_2 + continuous')).toBeUndefined();
    let deepest = -Infinity;
    for (let i = 0; i < 30; i++) {
      c.advance(50);
      c.send('jog renew');
      deepest = Math.max(deepest, armJoints(c)[1]!);
    }
    expect(deepest).toBeLessThan(-1.0);
    expect(deepest).toBeGreaterThan(-1.2);
    expect(records(c, 'commissioning', 'jog.end').at(-1)!.why).toBe('refused: interlock never_into_keep_out');
    expect(records(c, 'interlock.refused').some((r) => r.interlock === 'never_into_keep_out' && r.device === 'arm')).toBe(true);
    // Away from the zone is allowed.
    expect(rejection(c, 'jog arm joint_2 -0.05')).toBeUndefined();
    // Straight into it is refused at once.
    c.advance(1000);
    expect(rejection(c, 'jog arm joint_2 +0.5')).toBe('jog refused: interlock never_into_keep_out');
  });

  it('refuses a conveyor jog with the guard door open (nothing_moves_with_guard_open)', () => {
    const c = manualCell();
    c.openGuard(true);
    c.advance(100);
    expect(rejection(c, 'jog conveyor +10')).toBe('jog refused: interlock nothing_moves_with_guard_open');
  });

  it('opening the guard during a jog stops it as a protective stop does in Production', () => {
    const c = manualCell();
    c.send('jog conveyor + continuous');
    c.advance(100);
    c.send('jog renew');
    c.openGuard(true);
    c.advance(50);
    expect(records(c, 'commissioning', 'jog.end').at(-1)!.why).toBe('protective stop guard_door');
    c.advance(300);
    expect(moving(c, 'conveyor')).toBe(false);
    expect(rejection(c, 'jog renew')).toBe('no jog is active to renew');
  });

  it('an emergency stop during a jog: safe state to every device at once, Aborted, the jog over, nothing restarts', () => {
    const c = manualCell();
    c.send('jog arm joint_1 + continuous');
    for (let i = 0; i < 3; i++) {
      c.advance(100);
      c.send('jog renew');
    }
    expect(moving(c, 'arm')).toBe(true);
    c.pressEstop(true);
    c.advance(1);
    const tripped = records(c, 'estop').find((r) => r.active === true)!;
    const safeStates = records(c, 'device.command').filter((r) => (r.command as { type: string }).type === 'safeState' && r.t === tripped.t);
    expect([...new Set(safeStates.map((r) => r.device))].sort()).toEqual(['arm', 'conveyor', 'feeder', 'safety_io']);
    expect(records(c, 'commissioning', 'jog.end').at(-1)!.why).toBe('safe state');
    c.until('Aborted', 5000);
    const held = armJoints(c)[0]!;
    // Renewals after the e-stop move nothing; neither does a new jog, nor releasing the e-stop.
    expect(rejection(c, 'jog renew')).toBe('no jog is active to renew');
    expect(rejection(c, 'jog arm joint_1 +0.1')).toBe('jog is only allowed in a wait state (Stopped, Idle, Complete); the cell is in Aborted');
    c.pressEstop(false);
    c.advance(2000);
    expect(armJoints(c)[0]).toBe(held);
    expect(c.state).toBe('Aborted');
    // The same path as Production: Clear, then (still Manual) a jog is possible again.
    c.send('clear');
    c.until('Stopped', 5000);
    expect(rejection(c, 'jog arm joint_1 +0.05')).toBeUndefined();
  });

  it('every jog increment goes through the controller as a step named jog, with its device command journaled', () => {
    const c = manualCell();
    c.send('jog conveyor +10');
    c.advance(500);
    const steps = records(c, 'step').filter((r) => r.step === 'jog');
    expect(steps.map((r) => r.phase)).toEqual(['start', 'done']);
    const sent = records(c, 'device.command').find((r) => r.step === 'jog')!;
    expect(sent.command).toMatchObject({ type: 'index', steps: 100, speedScale: 0.625 });
    expect(records(c, 'command').find((r) => r.command === 'jog conveyor +10')).toMatchObject({ accepted: true, source: 'topic:/workcell/command' });
  });
});
