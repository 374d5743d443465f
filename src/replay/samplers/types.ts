/**
 * A sampler: how the buffer draws transitions (uniformly, or from a sum-tree of priorities whose
 * leaves the sampler computes). The buffer tells it which transitions were written and reported;
 * the reliability estimator tells it whose reliability changed otherwise (ReliabilityListener).
 */
import type { Rng } from "../../core/rng.js";
import type { ReplayConfig } from "../config.js";
import type { ReliabilityEstimator, ReliabilityListener } from "../reliability/index.js";
import type { Part, TransitionStats } from "../stats.js";
import type { TransitionStore } from "../storage.js";
import type { PriorityTree } from "../sum-tree.js";

/** What a sampler is built on. */
export interface SamplerParts {
  config: ReplayConfig;
  store: TransitionStore;
  stats: TransitionStats;
  estimator: ReliabilityEstimator;
}

export interface Sampler extends Part, ReliabilityListener {
  /** The priorities drawn from (null: uniform). */
  readonly tree: PriorityTree | null;
  /** Exponents in force, for SampleInfo: α on p_i, β on the reliability 1 − ρ_i (0 where unused). */
  readonly alpha: number;
  readonly beta: number;
  /** Transition i was written (its statistics are fresh). */
  added(i: number): void;
  /** The first `count` of `indices` were reported (repeats possible), once per updatePriorities call. */
  updated(indices: Int32Array, count: number): void;
  /** Before a draw at `step`: true when a rebuild is due (the sampler has taken its new exponents). */
  prepare(step: number): boolean;
  /** Recompute every priority from the statistics (after the estimator's refresh): O(N). */
  rebuild(): void;
  /** Draw n indices into idx with their importance weights (IS exponent isBeta). */
  draw(n: number, rng: Rng, isBeta: number, idx: Int32Array, weights: Float32Array): void;
  /** P(i) of stored transition i. */
  probability(i: number): number;
}
