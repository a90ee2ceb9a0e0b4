/**
 * Statistics for the benchmarks: every figure is a distribution (median, p99, max over samples)
 * or a ratio, never a single run. Percentiles are nearest-rank: p99 of 100 samples is the 99th
 * smallest, so it is always a value that was really measured.
 */

export interface Distribution {
  n: number;
  min: number;
  median: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile (0 < p <= 100) of samples already sorted ascending. */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no samples');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100] (got ${p})`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function percentile(samples: readonly number[], p: number): number {
  return percentileOfSorted([...samples].sort((a, b) => a - b), p);
}

/** Median, p99 and max of the samples (throws on an empty or non-finite sample set). */
export function distribution(samples: readonly number[]): Distribution {
  if (samples.length === 0) throw new RangeError('a distribution needs at least one sample');
  const bad = samples.find((x) => !Number.isFinite(x));
  if (bad !== undefined) throw new RangeError(`sample ${bad} is not a finite number`);
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((s, x) => s + x, 0) / sorted.length;
  return {
    n: sorted.length,
    min: sorted[0]!,
    median: percentileOfSorted(sorted, 50),
    p99: percentileOfSorted(sorted, 99),
    max: sorted[sorted.length - 1]!,
    mean,
  };
}

/** Round to `digits` decimals (for the results file: figures, not noise). */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function roundDistribution(d: Distribution, digits = 3): Distribution {
  return { n: d.n, min: round(d.min, digits), median: round(d.median, digits), p99: round(d.p99, digits), max: round(d.max, digits), mean: round(d.mean, digits) };
}
