/**
 * Per-transition statistics, kept in the store's records next to the transition's data (one page
 * per sampled transition; see storage.ts), and the base priority p_i that the samplers and the
 * episode estimator derive from them:
 *
 *   p_i = |δ_i| + eps for a transition whose TD error has been reported, and the running maximum of
 *   p over all reports for one that has not ("new items at max priority").
 */
import type { SnapshotArray } from "./snapshot.js";
import type { TransitionStore } from "./storage.js";

/** Offsets in a transition's record of statistics. */
export const STAT = { tdError: 0, unreliability: 1, surprise: 2, timesSampled: 3 } as const;
const TD = STAT.tdError;
const UNREL = STAT.unreliability;
const SURPRISE = STAT.surprise;
const SAMPLED = STAT.timesSampled;

/** What the agent reports after a learning step, one entry per updated index. */
export interface PriorityUpdate {
  tdError: ArrayLike<number>;
  /** Spread of the TD error across critic heads (required by the `ensemble` estimator). */
  tdStd?: ArrayLike<number>;
  /** Surprise S_i (stored for logging and inspection). */
  surprise?: ArrayLike<number>;
}

export class TransitionStats {
  /**
   * [i * stride + k], k = STAT.*: last reported TD error (signed; NaN: never reported); the
   * reliability estimator's statistic (its own meaning; NaN: unknown); last surprise (NaN: none);
   * times sampled (float32 counts exactly up to 2^24).
   */
  readonly values: Float32Array;
  /** Record stride of `values` (the store's). */
  readonly stride: number;
  readonly eps: number;
  /** Running max of |δ| + eps over all reports: the priority of transitions never reported. */
  maxPriority = 1;

  constructor(store: TransitionStore, eps: number) {
    this.values = store.stats;
    this.stride = store.stride;
    this.eps = eps;
  }

  /** p_i: |δ_i| + eps, or the running max when never reported. */
  priority(i: number): number {
    const td = this.values[i * this.stride + TD]!;
    return td === td ? Math.abs(td) + this.eps : this.maxPriority;
  }

  /** Last reported TD error of i (NaN: never reported). */
  td(i: number): number {
    return this.values[i * this.stride + TD]!;
  }

  /** The estimator's statistic of i. */
  unreliability(i: number): number {
    return this.values[i * this.stride + UNREL]!;
  }

  setUnreliability(i: number, u: number): void {
    this.values[i * this.stride + UNREL] = u;
  }

  /** Statistics of a freshly written transition (the estimator sets its own word). */
  reset(i: number): void {
    const r = i * this.stride;
    this.values[r + TD] = NaN;
    this.values[r + SURPRISE] = NaN;
    this.values[r + SAMPLED] = 0;
  }

  /** Store a reported TD error (finite) and surprise, raising the running max priority. */
  report(i: number, td: number, surprise: number | undefined): void {
    const r = i * this.stride;
    this.values[r + TD] = td;
    if (surprise !== undefined) this.values[r + SURPRISE] = surprise;
    const p = Math.abs(td) + this.eps;
    if (p > this.maxPriority) this.maxPriority = p;
  }
}

/** How a part reads back what it saved; a missing or malformed entry throws FileFormatError. */
export interface PartReader {
  scalar(name: string): number;
  array<T extends SnapshotArray>(name: string, type: new (n: number) => T, length?: number): T;
  /** Whether an array was saved (for parts whose state grew since older snapshots). */
  has(name: string): boolean;
}

/**
 * A stateful part of the buffer (sampler, reliability estimator) as snapshots see it: named numbers
 * (JSON in the header; NaN allowed) and named arrays (sections), each part in its own namespace.
 */
export interface Part {
  scalars(): Record<string, number>;
  arrays(): Record<string, SnapshotArray>;
  restore(r: PartReader): void;
}
