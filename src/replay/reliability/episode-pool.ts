/**
 * The episode estimator's per-step arrays, every episode's in one region of a shared pool, by
 * position k = step − base: the step's |δ| (float32 like the record's TD error; NEW: unreported),
 * its ρ̃ as written to its record, and its ring index.
 *
 * Why a pool: what a report touches is cold (it lands on a random episode), so latency is its cost,
 * and an episode's own typed arrays sit behind two object headers; here the episode's offset is in
 * its slot record, one line away. Why copies of the records' words: a walk over an episode then
 * reads three contiguous arrays instead of records eight or more apart in the ring.
 */

/** |δ| of a step not reported yet. */
export const NEW = -1;
/** Smallest region (positions); regions come in powers of two from here. */
export const MIN_CAP = 16;

/** The |δ| a position holds for a TD error (NaN: never reported). */
export function deltaOf(td: number): number {
  return td === td ? Math.abs(td) : NEW;
}

export class EpisodePool {
  /** The pool as float32 (|δ|, ρ̃) and as int32 (ring indices); both views of one buffer. */
  f32: Float32Array;
  i32: Int32Array;
  private top = 0;
  /** Released regions by size class (log2(cap / MIN_CAP)), reused before the pool grows. */
  private readonly free: number[][] = [];

  /**
   * Room for about `steps` stored steps from the start: the regions of a full buffer take about
   * 1.5 positions per step (powers of two), so growing and copying the pool while the buffer
   * fills is avoided; memory the pool has not written yet is not resident.
   */
  constructor(steps: number) {
    this.f32 = new Float32Array(Math.max(1 << 12, Math.ceil(3 * 1.5 * steps)));
    this.i32 = new Int32Array(this.f32.buffer);
  }

  /** A region of `cap` positions (a power of two ≥ MIN_CAP); its contents are undefined. */
  alloc(cap: number): number {
    const at = this.free[Math.log2(cap / MIN_CAP)]?.pop();
    if (at !== undefined) return at;
    if (this.top + 3 * cap > this.f32.length) {
      const f = new Float32Array(Math.max(2 * this.f32.length, this.top + 3 * cap));
      f.set(this.f32.subarray(0, this.top));
      this.f32 = f;
      this.i32 = new Int32Array(f.buffer);
    }
    this.top += 3 * cap;
    return this.top - 3 * cap;
  }

  release(at: number, cap: number): void {
    (this.free[Math.log2(cap / MIN_CAP)] ??= []).push(at);
  }

  /** Where the parts of a region at `at` of `cap` positions begin: |δ| at `at`, then ρ̃, then ring indices. */
  static rho(at: number, cap: number): number {
    return at + cap;
  }

  static idx(at: number, cap: number): number {
    return at + 2 * cap;
  }

  bytes(): number {
    return this.f32.byteLength;
  }
}
