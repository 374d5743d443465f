/**
 * reaper: ReaPER+ annealed, leaf p_i^α(t) · (1 − ρ_i)^β(t) with 1 − ρ_i from the reliability
 * estimator.
 *
 * Refresh cadence (checked at the start of each draw): every leaf is recomputed and the tree
 * rebuilt (O(N)) when α(t) or β(t) moved more than `refreshTolerance` since the last rebuild; when
 * they differ at all once the horizon has passed (so the end state is exact); when the estimator's
 * normalisation drifted so far that a leaf could be off by more than the factor
 * 1 + `refreshNormTolerance` (β·drift > ln(1 + tol)); or after `refreshEvery` priority updates.
 * Between rebuilds, inserts and updates use the α, β (and the estimator's normalisation) of the
 * last rebuild, so the tree is always consistent. With the defaults that is about 60 rebuilds over
 * the horizon (α/β) plus the few that ū's drift triggers; `bench replay` reports the cost. A
 * rebuild gives never-reported transitions the running max priority of that moment (PER keeps the
 * max of their insertion time); while β = 0 and α is constant only `refreshEvery` triggers a
 * rebuild, so ReaPER+ at t = 0 with refreshEvery 0 samples exactly like PER with α = α(0).
 */
import { scheduleValue, type ScheduleSpec } from "../../core/schedule.js";
import type { ReliabilityEstimator } from "../reliability/index.js";
import type { PartReader } from "../stats.js";
import { floorLeaf, powPositive, PrioritisedSampler } from "./prioritised.js";
import type { SamplerParts } from "./types.js";

export class ReaperSampler extends PrioritisedSampler {
  readonly usesReliability = true;
  private readonly estimator: ReliabilityEstimator;
  private readonly alphaSpec: ScheduleSpec;
  private readonly betaSpec: ScheduleSpec;
  /** α and β used by the leaves since the last rebuild. */
  private alphaR: number;
  private betaR: number;
  private updatesSinceRefresh = 0;
  /** Exponents set from outside (replay.schedule: bandit) in place of the annealing schedule, or null. */
  private chosen: { alpha: number; beta: number } | null = null;

  constructor(p: SamplerParts) {
    super(p);
    const c = p.config;
    this.estimator = p.estimator;
    this.alphaSpec = { kind: c.reaperShape, start: c.reaperAlphaStart, end: c.reaperAlphaEnd, duration: c.reaperHorizon };
    this.betaSpec = { kind: c.reaperShape, start: c.reaperBetaStart, end: c.reaperBetaEnd, duration: c.reaperHorizon };
    this.alphaR = c.reaperAlphaStart;
    this.betaR = c.reaperBetaStart;
  }

  get alpha(): number {
    return this.alphaR;
  }

  get beta(): number {
    return this.betaR;
  }

  protected leaf(i: number): number {
    const p = this.stats.priority(i);
    const b = this.betaR;
    const q = b === 0 ? powPositive(p, this.alphaR) : Math.exp(this.alphaR * Math.log(p) + b * Math.log(this.estimator.reliability(i)));
    return floorLeaf(q);
  }

  override updated(indices: Int32Array, count: number): void {
    super.updated(indices, count);
    this.updatesSinceRefresh++;
  }

  reliabilityChanged(indices: Int32Array, count: number): void {
    const tree = this.tree;
    const leaves = tree.leaves;
    for (let b = 0; b < count; b++) {
      const i = indices[b]!;
      leaves[i] = this.leaf(i);
    }
    // Past about one leaf in eight, fixing paths costs more than rebuilding every internal node.
    if (count > leaves.length / 8) tree.rebuild();
    else tree.fixLeaves(indices, count);
  }

  /**
   * Use these exponents from the next draw on instead of the annealing schedule (null: the schedule
   * again). A controller choosing them (replay.schedule: bandit) keeps its choice in its own state.
   */
  setExponents(exponents: { alpha: number; beta: number } | null): void {
    this.chosen = exponents && { alpha: exponents.alpha, beta: exponents.beta };
  }

  prepare(step: number): boolean {
    const c = this.config;
    // Past the horizon use the end values themselves (the schedule's arithmetic may be 1 ulp off);
    // chosen exponents are exact too.
    const exact = step >= c.reaperHorizon || this.chosen !== null;
    const a = this.chosen?.alpha ?? (exact ? c.reaperAlphaEnd : scheduleValue(this.alphaSpec, step));
    const b = this.chosen?.beta ?? (exact ? c.reaperBetaEnd : scheduleValue(this.betaSpec, step));
    const tol = c.refreshTolerance;
    let due = Math.abs(a - this.alphaR) > tol || Math.abs(b - this.betaR) > tol;
    if (!due && exact && (a !== this.alphaR || b !== this.betaR)) due = true;
    const beta = Math.max(b, this.betaR);
    if (!due && beta > 0) {
      const drift = this.estimator.drift();
      due = drift === Infinity || beta * drift > Math.log1p(c.refreshNormTolerance);
    }
    if (!due && c.refreshEvery > 0 && this.updatesSinceRefresh >= c.refreshEvery) due = true;
    if (due) {
      this.alphaR = a;
      this.betaR = b;
    }
    return due;
  }

  override rebuild(): void {
    super.rebuild();
    this.updatesSinceRefresh = 0;
  }

  override scalars(): Record<string, number> {
    return { alphaR: this.alphaR, betaR: this.betaR, updatesSinceRefresh: this.updatesSinceRefresh };
  }

  override restore(r: PartReader): void {
    super.restore(r);
    this.alphaR = r.scalar("alphaR");
    this.betaR = r.scalar("betaR");
    this.updatesSinceRefresh = r.scalar("updatesSinceRefresh");
  }
}
