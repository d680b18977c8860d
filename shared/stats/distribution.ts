/** Summary of a set of numbers, for distance distributions and latency figures. */
export interface Distribution {
  n: number;
  min: number;
  p1: number;
  p5: number;
  median: number;
  p95: number;
  p99: number;
  max: number;
}

/** Linear-interpolated quantile of an ascending array (q in 0..1). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? Number.NaN;
  const b = sorted[hi] ?? Number.NaN;
  return a + (b - a) * (pos - lo);
}

export function distribution(values: readonly number[]): Distribution {
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    min: s[0] ?? Number.NaN,
    p1: quantileSorted(s, 0.01),
    p5: quantileSorted(s, 0.05),
    median: quantileSorted(s, 0.5),
    p95: quantileSorted(s, 0.95),
    p99: quantileSorted(s, 0.99),
    max: s.at(-1) ?? Number.NaN,
  };
}
