import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { distribution, percentile, percentileOfSorted } from '../../bench/stats.js';

describe('bench statistics', () => {
  it('uses nearest-rank percentiles: always a measured value', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    // Of 10 samples, p99 is the largest (rank ceil(9.9) = 10), not an interpolation.
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 1000], 99)).toBe(1000);
    expect(percentile([3, 1, 2], 50)).toBe(2);
  });

  it('refuses nonsense instead of inventing a figure', () => {
    expect(() => distribution([])).toThrow(/at least one sample/);
    expect(() => distribution([1, Number.NaN])).toThrow(/not a finite number/);
    expect(() => percentileOfSorted([1, 2], 0)).toThrow(/\(0, 100\]/);
    expect(() => percentileOfSorted([], 50)).toThrow(/no samples/);
  });

  it('orders min <= median <= p99 <= max, and every statistic is one of the samples', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }), (xs) => {
        const d = distribution(xs);
        expect(d.n).toBe(xs.length);
        expect(d.min).toBeLessThanOrEqual(d.median);
        expect(d.median).toBeLessThanOrEqual(d.p99);
        expect(d.p99).toBeLessThanOrEqual(d.max);
        for (const v of [d.min, d.median, d.p99, d.max]) expect(xs).toContain(v);
        expect(d.max).toBe(Math.max(...xs));
        // At least 99 % of the samples are at or below p99.
        expect(xs.filter((x) => x <= d.p99).length / xs.length).toBeGreaterThanOrEqual(0.99);
      }),
    );
  });
});
