import { describe, expect, test } from 'vitest';
import { MotionProfile } from '../../src/sim/motion.js';

// Units as the conveyor uses them: mm and ms (speed mm/ms, acceleration mm/ms²).
const V = 0.4; // 400 mm/s
const A = 0.0016; // 1600 mm/s²

describe('MotionProfile', () => {
  test('a long trapezoid takes D/v + v/a and ramps over v²/2a', () => {
    const p = MotionProfile.trapezoid(100, 300, V, A);
    expect(p.endTime - 100).toBeCloseTo(300 / V + V / A, 9);
    expect(p.endPosition).toBe(300);
    expect(p.positionAt(100 + V / A)).toBeCloseTo((V * V) / (2 * A), 9);
    expect(p.velocityAt(100 + V / A + 1)).toBeCloseTo(V, 12);
    expect(p.positionAt(p.endTime + 50)).toBe(300);
  });

  test('a short move is triangular: 2·sqrt(D/a), peak below max speed', () => {
    const p = MotionProfile.trapezoid(0, 40, V, A);
    expect(p.endTime).toBeCloseTo(2 * Math.sqrt(40 / A), 9);
    expect(p.positionAt(p.endTime / 2)).toBeCloseTo(20, 9);
    expect(p.velocityAt(p.endTime / 2 - 1e-9)).toBeLessThan(V);
  });

  test('timeAt inverts positionAt along the whole profile', () => {
    const p = MotionProfile.trapezoid(0, 300, V, A);
    for (const x of [0.001, 10, 50, 149.9, 150, 200, 299, 299.999]) {
      const t = p.timeAt(x)!;
      expect(p.positionAt(t)).toBeCloseTo(x, 6);
    }
    expect(p.timeAt(300)).toBe(p.endTime);
    expect(p.timeAt(300.001)).toBeUndefined();
  });

  test('decelerating from cruise stops v²/2a further, v/a later', () => {
    const p = MotionProfile.trapezoid(0, 300, V, A);
    const t = 400;
    const x = p.positionAt(t);
    const stopped = p.deceleratedFrom(t, A);
    expect(stopped.endTime).toBeCloseTo(t + V / A, 9);
    expect(stopped.endPosition).toBeCloseTo(x + (V * V) / (2 * A), 9);
    expect(stopped.positionAt(t)).toBeCloseTo(x, 12);
  });

  test('freezing stops dead where it is', () => {
    const p = MotionProfile.constantSpeed(0, 1, 1 / 500);
    const frozen = p.frozenAt(125);
    expect(frozen.endTime).toBe(125);
    expect(frozen.endPosition).toBeCloseTo(0.25, 12);
    expect(frozen.positionAt(1000)).toBeCloseTo(0.25, 12);
  });

  test('a zero-length move is already over', () => {
    const p = MotionProfile.trapezoid(10, 0, V, A);
    expect(p.endTime).toBe(10);
    expect(p.endPosition).toBe(0);
  });
});
