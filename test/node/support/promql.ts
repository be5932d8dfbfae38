/**
 * What Prometheus computes, recomputed from raw samples, so a test can say "this query's value is
 * exactly what the traffic implies". `increase`/`rate` follow Prometheus 2.x `extrapolatedRate`
 * (promql/functions.go) and `histogram_quantile` follows `bucketQuantile` (promql/quantile.go).
 */

export type Labels = Record<string, string>;
export interface Sample {
  metric: Labels;
  value: [number, string];
}
export interface Series {
  metric: Labels;
  values: Array<[number, string]>;
}
export interface Point {
  t: number;
  v: number;
}

/** Timestamps in integer milliseconds, as Prometheus stores them (float seconds lose precision). */
export const points = (s: Series): Point[] =>
  s.values.map(([t, v]) => ({ t: Math.round(t * 1000), v: Number(v) }));

/**
 * `increase(x[range])` (or `rate` with `isRate`) at `evalTs` (seconds) of one counter's points in
 * the window. Durations are computed in integer milliseconds, then converted, as Prometheus does.
 */
export function extrapolatedIncrease(
  pts: Point[],
  evalTs: number,
  rangeS: number,
  isRate = false,
): number | undefined {
  if (pts.length < 2) return undefined;
  const first = pts[0]!;
  const last = pts[pts.length - 1]!;
  let result = last.v - first.v;
  let prev = first.v;
  for (const p of pts.slice(1)) {
    if (p.v < prev) result += prev; // counter reset
    prev = p.v;
  }
  const evalMs = Math.round(evalTs * 1000);
  const rangeStart = evalMs - rangeS * 1000;
  let durationToStart = (first.t - rangeStart) / 1000;
  const durationToEnd = (evalMs - last.t) / 1000;
  const sampledInterval = (last.t - first.t) / 1000;
  const avg = sampledInterval / (pts.length - 1);
  if (result > 0 && first.v >= 0) {
    const durationToZero = sampledInterval * (first.v / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = avg * 1.1;
  let interval = sampledInterval;
  interval += durationToStart < threshold ? durationToStart : avg / 2;
  interval += durationToEnd < threshold ? durationToEnd : avg / 2;
  let factor = interval / sampledInterval;
  if (isRate) factor /= rangeS;
  return result * factor;
}

/** `histogram_quantile(q, …)` over per-bucket values keyed by their `le`. */
export function bucketQuantile(q: number, buckets: Array<{ le: number; count: number }>): number {
  const bs = [...buckets].sort((a, b) => a.le - b.le);
  if (bs.length < 2 || bs.at(-1)!.le !== Infinity) return NaN;
  // ensureMonotonic: extrapolation can make a higher bucket's rate a hair lower.
  let max = -Infinity;
  for (const b of bs) {
    if (b.count > max) max = b.count;
    else b.count = max;
  }
  const observations = bs.at(-1)!.count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  let b = bs.slice(0, -1).findIndex((x) => x.count >= rank);
  if (b === -1) b = bs.length - 1;
  if (b === bs.length - 1) return bs[bs.length - 2]!.le;
  if (b === 0 && bs[0]!.le <= 0) return bs[0]!.le;
  let start = 0;
  let count = bs[b]!.count;
  if (b > 0) {
    start = bs[b - 1]!.le;
    count -= bs[b - 1]!.count;
    rank -= bs[b - 1]!.count;
  }
  return start + (bs[b]!.le - start) * (rank / count);
}

/** A stable key for a label set, ignoring the given labels. */
export function labelKey(labels: Labels, ignore: readonly string[] = []): string {
  return JSON.stringify(
    Object.entries(labels)
      .filter(([k]) => !ignore.includes(k))
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}

/** Groups `values` by the given labels and sums them (PromQL `sum by (…)`). */
export function sumBy(
  items: Array<{ labels: Labels; value: number }>,
  by: readonly string[],
): Map<string, number> {
  const out = new Map<string, number>();
  for (const { labels, value } of items) {
    const key = labelKey(Object.fromEntries(by.map((l) => [l, labels[l] ?? ''])));
    out.set(key, (out.get(key) ?? 0) + value);
  }
  return out;
}
