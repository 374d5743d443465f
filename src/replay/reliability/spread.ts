/**
 * The normalisation shared by the spread estimators (td-spread, ensemble): each transition has a
 * spread statistic u_i ≥ 0 (NaN: unknown), an EMA over its measurements at rate
 * `replay.spreadRate`; ρ_i = u_i / (u_i + ū) with ū the mean of the known u over the buffer —
 * 1/2 for a transition of average spread, → 0 for a settled one, never 1, so no transition is
 * starved. Unknown u counts as average (ρ = 1/2).
 *
 * ū enters the reliabilities of every transition, so the ū in force (ūR) changes only on refresh
 * while a sampler's leaves use ρ (ReaPER+ rebuilds when ū has drifted, see `drift`); otherwise it
 * follows the buffer at each draw, since only logging reads it.
 */
import { STAT, type PartReader, type PriorityUpdate } from "../stats.js";
import type { TransitionStore } from "../storage.js";
import type { EstimatorParts, ReliabilityEstimator, ReliabilityListener } from "./types.js";

const U = STAT.unreliability;

export abstract class SpreadEstimator implements ReliabilityEstimator {
  private readonly store: TransitionStore;
  /** The records' statistics; u_i is values[i * w + U]. */
  protected readonly values: Float32Array;
  protected readonly w: number;
  private readonly rate: number;
  /** ū in force (NaN: none known). */
  private normR = NaN;
  /** Σ and count of the known u over the buffer. */
  private unrelSum = 0;
  private unrelCount = 0;

  constructor(p: EstimatorParts) {
    this.store = p.store;
    this.values = p.stats.values;
    this.w = p.stats.stride;
    this.rate = p.config.spreadRate;
  }

  /** The spread measured by a report of i, or NaN when it measures none. */
  protected abstract measure(i: number, td: number, b: number, update: PriorityUpdate): number;

  abstract check(update: PriorityUpdate): void;

  added(i: number): void {
    this.values[i * this.w + U] = NaN;
  }

  evicting(i: number): void {
    const u = this.values[i * this.w + U]!;
    if (u === u) {
      this.unrelSum -= u;
      this.unrelCount--;
    }
  }

  reported(i: number, td: number, b: number, update: PriorityUpdate): void {
    const x = this.measure(i, td, b, update);
    if (x !== x) return;
    // The EMA, keeping the buffer sum in step with the float32 value stored.
    const at = i * this.w + U;
    const u = this.values[at]!;
    if (u === u) {
      this.values[at] = u + this.rate * (x - u);
      this.unrelSum += this.values[at]! - u;
    } else {
      this.values[at] = x;
      this.unrelSum += this.values[at]!;
      this.unrelCount++;
    }
  }

  settle(): void {}

  bytes(): number {
    return 0;
  }

  prepare(listener: ReliabilityListener): void {
    if (!listener.usesReliability) this.normR = this.currentNorm();
  }

  reliability(i: number): number {
    const u = this.values[i * this.w + U]!;
    const ub = this.normR;
    if (u !== u || ub !== ub) return 0.5;
    const den = u + ub;
    return den > 0 ? ub / den : 1;
  }

  reliabilities(idx: Int32Array, n: number, out: Float32Array): void {
    const values = this.values;
    const w = this.w;
    const ub = this.normR;
    for (let b = 0; b < n; b++) {
      const u = values[idx[b]! * w + U]!;
      out[b] = u !== u || ub !== ub ? 0.5 : u + ub > 0 ? ub / (u + ub) : 1;
    }
  }

  private currentNorm(): number {
    return this.unrelCount > 0 ? this.unrelSum / this.unrelCount : NaN;
  }

  /** ū enters the leaves through (ū / (u + ū))^β: a stale ūR misstates one by at most (ū / ūR)^±β. */
  drift(): number {
    const m = this.currentNorm();
    const r = this.normR;
    if (r !== r) return m === m ? Infinity : 0;
    const d = Math.abs(Math.log(m / r));
    return d === d ? d : 0;
  }

  /** Exact sums of the known u (the running ones accumulate float rounding), and ūR = ū. */
  refresh(): void {
    const n = this.store.size;
    let sum = 0;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const u = this.values[i * this.w + U]!;
      if (u === u) {
        sum += u;
        count++;
      }
    }
    this.unrelSum = sum;
    this.unrelCount = count;
    this.normR = this.currentNorm();
  }

  scalars(): Record<string, number> {
    return { normR: this.normR, unrelSum: this.unrelSum, unrelCount: this.unrelCount };
  }

  arrays(): Record<string, never> {
    return {};
  }

  restore(r: PartReader): void {
    this.normR = r.scalar("normR");
    this.unrelSum = r.scalar("unrelSum");
    this.unrelCount = r.scalar("unrelCount");
  }
}
