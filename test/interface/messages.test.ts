import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DiagnosticLevel, toRosTime } from '../../src/interface/messages.js';

describe('toRosTime', () => {
  it.each([
    [0, { sec: 0, nanosec: 0 }],
    [1500, { sec: 1, nanosec: 500_000_000 }],
    [0.001, { sec: 0, nanosec: 1000 }],
    [42_250, { sec: 42, nanosec: 250_000_000 }],
    [-1, { sec: -1, nanosec: 999_000_000 }],
  ])('%d ms is %j', (ms, time) => {
    expect(toRosTime(ms)).toEqual(time);
  });

  it('carries a rounding up to a full second into sec instead of giving 1e9 ns', () => {
    expect(toRosTime(1999.9999999)).toEqual({ sec: 2, nanosec: 0 });
  });

  it('refuses a time that is not finite', () => {
    expect(() => toRosTime(Number.NaN)).toThrow('cannot express NaN ms as a builtin_interfaces/Time');
    expect(() => toRosTime(Infinity)).toThrow(RangeError);
  });

  it('gives whole sec and 0 <= nanosec < 1e9 within half a nanosecond of the input (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e9, max: 1e10, noNaN: true }), (ms) => {
        const { sec, nanosec } = toRosTime(ms);
        expect(Number.isInteger(sec)).toBe(true);
        expect(Number.isInteger(nanosec)).toBe(true);
        expect(nanosec).toBeGreaterThanOrEqual(0);
        expect(nanosec).toBeLessThan(1e9);
        // Tolerance: half a nanosecond plus the float error of ms itself at this magnitude.
        expect(Math.abs(sec * 1000 + nanosec / 1e6 - ms)).toBeLessThanOrEqual(5e-7 + Math.abs(ms) * 1e-15);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('DiagnosticLevel', () => {
  it('uses the diagnostic_msgs/DiagnosticStatus byte values', () => {
    expect(DiagnosticLevel).toEqual({ OK: 0, WARN: 1, ERROR: 2, STALE: 3 });
  });
});
