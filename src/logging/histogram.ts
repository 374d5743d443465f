/**
 * Histogram summaries shared by the JSONL and TensorBoard sinks.
 *
 * Buckets follow TensorFlow's default histogram (core/lib/histogram/histogram.cc), which TensorBoard
 * expects: positive limits 1e-12 · 1.1^k below 1e20, mirrored for negatives, a 0 limit between them
 * and DBL_MAX at the end. Bucket i counts values in [limit[i-1], limit[i]). As in TensorFlow's
 * `EncodeToProto(preserve_zero_buckets = false)`, each run of empty buckets is collapsed into one
 * (keeping the run's last limit), so a summary holds at most about twice as many buckets as there
 * are distinct occupied ones.
 */

function defaultBucketLimits(): Float64Array {
  const pos: number[] = [];
  for (let v = 1e-12; v < 1e20; v *= 1.1) pos.push(v);
  pos.push(Number.MAX_VALUE);
  const limits = new Float64Array(2 * pos.length + 1);
  for (let i = 0; i < pos.length; i++) limits[i] = -pos[pos.length - 1 - i]!;
  limits[pos.length] = 0;
  for (let i = 0; i < pos.length; i++) limits[pos.length + 1 + i] = pos[i]!;
  return limits;
}

/** TensorFlow's default bucket limits (1,551 edges, ascending: 775 negative, 0, 775 positive). */
export const DEFAULT_BUCKET_LIMITS: Float64Array = defaultBucketLimits();

export interface HistogramSummary {
  /** Number of finite values summarised. */
  num: number;
  /** Non-finite values (NaN, ±Inf), left out of every other figure. */
  nonFinite: number;
  min: number;
  max: number;
  sum: number;
  sumSquares: number;
  /** Upper limits of the (collapsed) buckets; same length as `bucketCounts`. */
  bucketLimits: Float64Array;
  bucketCounts: Float64Array;
}

/** Index of the first limit strictly greater than `v` (std::upper_bound, as TensorFlow does). */
function bucketIndex(limits: Float64Array, v: number): number {
  let lo = 0;
  let hi = limits.length - 1; // the last limit is DBL_MAX, above every finite value
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (limits[mid]! > v) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Summarises `values`; with no finite values, min/max/sum are 0 and there are no buckets. */
export function summarizeHistogram(values: ArrayLike<number>, limits: Float64Array = DEFAULT_BUCKET_LIMITS): HistogramSummary {
  const counts = new Float64Array(limits.length);
  let num = 0;
  let nonFinite = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      nonFinite++;
      continue;
    }
    num++;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumSquares += v * v;
    counts[bucketIndex(limits, v)]!++;
  }
  if (num === 0) {
    return { num, nonFinite, min: 0, max: 0, sum: 0, sumSquares: 0, bucketLimits: new Float64Array(0), bucketCounts: new Float64Array(0) };
  }
  // Only the span between the first and last occupied bucket is kept; runs of empty buckets inside
  // it collapse to one entry, so TensorBoard's rebinning sees the same shape as TensorFlow's output.
  const first = bucketIndex(limits, min);
  const last = bucketIndex(limits, max);
  const outLimits: number[] = [];
  const outCounts: number[] = [];
  for (let i = first; i <= last; ) {
    let end = limits[i]!;
    const count = counts[i]!;
    i++;
    if (count === 0) {
      while (i <= last && counts[i] === 0) end = limits[i++]!;
    }
    outLimits.push(end);
    outCounts.push(count);
  }
  return { num, nonFinite, min, max, sum, sumSquares, bucketLimits: Float64Array.from(outLimits), bucketCounts: Float64Array.from(outCounts) };
}
