/**
 * A reliability estimator: how the buffer measures the unreliability ρ_i ∈ [0, 1] of each stored
 * transition (ReaPER+ samples by the reliability 1 − ρ_i; every sampler logs it). The buffer calls
 * the hooks below as transitions come, go and are reported; the estimator keeps its per-transition
 * statistic in the record word STAT.unreliability (its own meaning) and whatever else it needs in
 * its own state, which it saves in snapshots (Part).
 */
import type { ReplayConfig } from "../config.js";
import type { Part, PriorityUpdate, TransitionStats } from "../stats.js";
import type { TransitionStore } from "../storage.js";

/** What an estimator is built on. */
export interface EstimatorParts {
  config: ReplayConfig;
  store: TransitionStore;
  stats: TransitionStats;
}

/**
 * The sampler, as an estimator sees it: whether its leaves depend on ρ, and where to report
 * reliabilities that changed other than by a report of the transition itself.
 */
export interface ReliabilityListener {
  readonly usesReliability: boolean;
  reliabilityChanged(indices: Int32Array, count: number): void;
}

export interface ReliabilityEstimator extends Part {
  /** Check a report before any of it is applied (throw when it lacks what this estimator needs). */
  check(update: PriorityUpdate): void;
  /** Transition i was written, in episode slot `slot` (its TD error is not reported yet). */
  added(i: number, slot: number): void;
  /** Transition i (the oldest, of episode slot `slot`) is about to be evicted; its record is still intact. */
  evicting(i: number, slot: number): void;
  /** Transition i is reported with TD error `td` (entry b of `update`), before its statistics change. */
  reported(i: number, td: number, b: number, update: PriorityUpdate): void;
  /** After the reports of one updatePriorities call. */
  settle(listener: ReliabilityListener): void;
  /** Before each draw: bring ρ up to date as far as the listener's leaves need. */
  prepare(listener: ReliabilityListener): void;
  /** Bytes held by the estimator's own arrays. */
  bytes(): number;
  /** Reliability 1 − ρ_i of stored transition i, as the sampler uses it. */
  reliability(i: number): number;
  /** reliability(idx[b]) into out[b] for b < n. */
  reliabilities(idx: Int32Array, n: number, out: Float32Array): void;
  /**
   * How far ρ's normalisation moved since the last refresh, as |ln(new/old)| of the factor by which
   * 1 − ρ may have changed (0 when it has none); a ReaPER+ rebuild is due when β times it is large.
   */
  drift(): number;
  /** Recompute every ρ exactly from the statistics: O(N). */
  refresh(): void;
}
