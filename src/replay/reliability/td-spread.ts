/**
 * td-spread (the default estimator): u_i = EMA over re-evaluations of (√π/2)·|δ_i^(k) − δ_i^(k−1)|,
 * the mean successive difference scaled to estimate the TD error's standard deviation (for Gaussian
 * noise E|X − Y| = 2σ/√π). Known from the second report on; normalised over the buffer as in
 * spread.ts.
 */
import type { TransitionStats } from "../stats.js";
import { SpreadEstimator } from "./spread.js";
import type { EstimatorParts } from "./types.js";

const SPREAD_SCALE = Math.sqrt(Math.PI) / 2;

export class TdSpreadEstimator extends SpreadEstimator {
  private readonly stats: TransitionStats;

  constructor(p: EstimatorParts) {
    super(p);
    this.stats = p.stats;
  }

  check(): void {}

  protected measure(i: number, td: number): number {
    const prev = this.stats.td(i);
    return prev === prev ? SPREAD_SCALE * Math.abs(td - prev) : NaN;
  }
}
