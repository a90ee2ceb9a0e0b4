import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  armMoveMs,
  atPose,
  inBox,
  interpolate,
  segmentInBox,
  trapezoidMs,
  zoneBox,
} from '../../src/cell/kinematics.js';
import { MotionProfile } from '../../src/sim/motion.js';
import { demoCell } from './helpers.js';

describe('joint-space zones', () => {
  const arm = (() => {
    const d = demoCell().devices.arm;
    if (d?.kind !== 'arm') throw new Error('demo has no arm');
    return d;
  })();

  it('a pose zone is the box spanning its poses, widened by the margin', () => {
    const box = zoneBox({ device: 'arm', poses: ['pick'], marginRad: 0.1 }, arm);
    expect(box.min).toEqual(arm.poses.pick!.map((v) => v - 0.1));
    expect(box.max).toEqual(arm.poses.pick!.map((v) => v + 0.1));
    expect(inBox(arm.poses.pick!, box)).toBe(true);
    expect(inBox(arm.poses.above_pick!, box)).toBe(false);
  });

  it('joints a zone does not name are unconstrained', () => {
    const box = zoneBox({ device: 'arm', joints: { joint_1: [0.5, 1.5] }, marginRad: 0 }, arm);
    expect(inBox([1, 99, -99, 5, 5, 5], box)).toBe(true);
    expect(inBox([0.4, 0, 0, 0, 0, 0], box)).toBe(false);
  });

  it('finds the part of a straight path inside a box', () => {
    const box = { min: [0, -1], max: [1, 1] };
    expect(segmentInBox([-1, 0], [3, 0], box)).toEqual([0.25, 0.5]);
    expect(segmentInBox([-1, 2], [3, 2], box)).toBeUndefined();
    expect(segmentInBox([0.5, 0], [0.5, 0], box)).toEqual([0, 1]);
  });

  it('agrees with sampling the path (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 3, maxLength: 3 }),
        fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 3, maxLength: 3 }),
        (a, b) => {
          const box = { min: [-0.5, -0.5, -0.5], max: [0.5, 0.5, 0.5] };
          const span = segmentInBox(a, b, box);
          for (let i = 0; i <= 200; i++) {
            const s = i / 200;
            const inside = inBox(interpolate(a, b, s), box);
            const claimed = span !== undefined && s >= span[0] - 1e-9 && s <= span[1] + 1e-9;
            if (inside && !claimed) return false;
            // Points claimed inside must be inside, up to rounding at the box faces.
            if (claimed && !inside && span && s > span[0] + 1e-6 && s < span[1] - 1e-6) return false;
          }
          return true;
        },
      ),
    );
  });

  it('times a synchronised move by its slowest joint, plus settling', () => {
    // above_pick -> pick: joint_2 0.3 rad at 1.0 rad/s, joint_3 0.2 at 1.0, joint_5 0.5 at 1.5 => 333.3 ms, + 50 ms settle.
    expect(armMoveMs(arm.poses.above_pick!, arm.poses.pick!, arm)).toBeCloseTo(383.333, 2);
    expect(atPose([0, 0], [0.005, -0.005], 0.01)).toBe(true);
    expect(atPose([0, 0], [0.02, 0], 0.01)).toBe(false);
  });
});

describe('trapezoidal conveyor moves', () => {
  it('cruises when the distance allows, else makes a triangle', () => {
    // 300 mm at 400 mm/s, 1600 mm/s^2: 0.75 s cruise-equivalent + 0.25 s ramps = 1 s.
    expect(trapezoidMs(300, 400, 1600)).toBeCloseTo(1000, 6);
    // 50 mm never reaches 400 mm/s: 2 * sqrt(50 / 1600) s.
    expect(trapezoidMs(50, 400, 1600)).toBeCloseTo(2 * Math.sqrt(50 / 1600) * 1000, 6);
  });

  it('agrees with the simulator: its trapezoid profile ends exactly when the throughput model says', () => {
    fc.assert(
      fc.property(fc.double({ min: 1, max: 1000, noNaN: true }), fc.double({ min: 10, max: 1000, noNaN: true }), fc.double({ min: 10, max: 5000, noNaN: true }), (d, v, a) => {
        // The simulator works in mm per ms; the model in mm/s.
        const profile = MotionProfile.trapezoid(0, d, v / 1000, a / 1e6);
        return Math.abs(profile.endTime - trapezoidMs(d, v, a)) < 1e-6 * trapezoidMs(d, v, a);
      }),
    );
  });

});
