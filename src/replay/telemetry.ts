/**
 * What a sampler drew, summarised for the logger (`replay/*` scalars) and for inspection.
 * Computed on demand from a batch's `info`, so sampling itself pays nothing for it.
 */
import type { SampleInfo } from "./buffer.js";

/** Mean, percentiles and extremes of the finite values of an array. */
export interface Distribution {
  count: number;
  mean: number;
  min: number;
  p10: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Summary of an array's finite values (NaN fields when it has none). Sorts a copy: O(n log n). */
export function distribution(values: ArrayLike<number>): Distribution {
  const v = new Float64Array(values.length);
  let n = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (Number.isFinite(x)) {
      v[n++] = x;
      sum += x;
    }
  }
  if (n === 0) return { count: 0, mean: NaN, min: NaN, p10: NaN, p50: NaN, p90: NaN, p99: NaN, max: NaN };
  const s = v.subarray(0, n).sort();
  const q = (p: number) => {
    const pos = p * (n - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(n - 1, lo + 1);
    return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
  };
  return { count: n, mean: sum / n, min: s[0]!, p10: q(0.1), p50: q(0.5), p90: q(0.9), p99: q(0.99), max: s[n - 1]! };
}

/** Scalars for one sampled batch; NaN where no drawn item has the statistic. */
export interface ReplayTelemetry {
  alpha: number;
  beta: number;
  isBeta: number;
  /** 1 when this draw rebuilt the priorities. */
  refreshed: number;
  tdAbsMean: number;
  tdAbsP10: number;
  tdAbsP50: number;
  tdAbsP90: number;
  tdAbsMax: number;
  /** Share of drawn items whose TD error was never reported (new transitions). */
  unreportedFrac: number;
  reliabilityMean: number;
  reliabilityP10: number;
  reliabilityP50: number;
  reliabilityP90: number;
  surpriseMean: number;
  surpriseP50: number;
  surpriseP90: number;
  isWeightMean: number;
  isWeightMin: number;
}

export function sampleTelemetry(info: SampleInfo): { scalars: ReplayTelemetry; reliabilities: Float32Array } {
  const td = distribution(info.tdAbs);
  const rel = distribution(info.reliability);
  const sur = distribution(info.surprise);
  const w = distribution(info.weights);
  const n = info.tdAbs.length;
  return {
    scalars: {
      alpha: info.alpha,
      beta: info.beta,
      isBeta: info.isBeta,
      refreshed: info.refreshed ? 1 : 0,
      tdAbsMean: td.mean,
      tdAbsP10: td.p10,
      tdAbsP50: td.p50,
      tdAbsP90: td.p90,
      tdAbsMax: td.max,
      unreportedFrac: n > 0 ? (n - td.count) / n : NaN,
      reliabilityMean: rel.mean,
      reliabilityP10: rel.p10,
      reliabilityP50: rel.p50,
      reliabilityP90: rel.p90,
      surpriseMean: sur.mean,
      surpriseP50: sur.p50,
      surpriseP90: sur.p90,
      isWeightMean: w.mean,
      isWeightMin: w.min,
    },
    reliabilities: info.reliability,
  };
}
