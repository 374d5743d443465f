/**
 * Sum-tree and min-tree over one array of leaf priorities, for proportional prioritised sampling.
 *
 * Layout: a complete binary tree of `width` leaves (the next power of two ≥ capacity, at least 2);
 * internal node k (1 ≤ k < width) has children 2k and 2k+1, and children numbered ≥ width are
 * leaves. Leaves are float32 (a priority needs no more), internal sums float64 so that the total
 * stays exact to float64 rounding at 1M leaves, and the min-tree float32 (a min of float32 values
 * is exact). Every update recomputes the ancestors from their children instead of adding a delta,
 * so internal nodes are always a pure function of the leaves: no drift, and a rebuild from the
 * leaves reproduces them bit for bit (snapshots store only the leaves).
 *
 * A leaf of 0 is an empty slot: it is never sampled and the min-tree ignores it, so occupied
 * slots must hold priorities > 0.
 */
export class PriorityTree {
  readonly capacity: number;
  readonly width: number;
  readonly leaves: Float32Array;
  private readonly sums: Float64Array;
  private readonly mins: Float32Array;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`PriorityTree capacity must be a positive integer, got ${capacity}`);
    }
    let width = 2;
    while (width < capacity) width *= 2;
    this.capacity = capacity;
    this.width = width;
    this.leaves = new Float32Array(width);
    this.sums = new Float64Array(width);
    this.mins = new Float32Array(width).fill(Infinity);
  }

  /** Sum of all leaves. */
  total(): number {
    return this.sums[1]!;
  }

  /** Smallest non-zero leaf (Infinity when the tree is empty). */
  min(): number {
    return this.mins[1]!;
  }

  get(i: number): number {
    return this.leaves[i]!;
  }

  /** Set leaf i to `value` (≥ 0, finite) and fix its ancestors: O(log N). */
  set(i: number, value: number): void {
    const leaves = this.leaves;
    const sums = this.sums;
    const mins = this.mins;
    const width = this.width;
    leaves[i] = value;
    let k = (i + width) >> 1;
    const l = 2 * k - width;
    const a = leaves[l]!;
    const b = leaves[l + 1]!;
    sums[k] = a + b;
    mins[k] = Math.min(a > 0 ? a : Infinity, b > 0 ? b : Infinity);
    k >>= 1;
    while (k >= 1) {
      const c = 2 * k;
      sums[k] = sums[c]! + sums[c + 1]!;
      mins[k] = Math.min(mins[c]!, mins[c + 1]!);
      k >>= 1;
    }
  }

  /** Recompute every internal node from the leaves: O(N). Used after bulk leaf writes. */
  rebuild(): void {
    const leaves = this.leaves;
    const sums = this.sums;
    const mins = this.mins;
    const width = this.width;
    for (let k = width - 1; k >= width / 2; k--) {
      const l = 2 * k - width;
      const a = leaves[l]!;
      const b = leaves[l + 1]!;
      sums[k] = a + b;
      mins[k] = Math.min(a > 0 ? a : Infinity, b > 0 ? b : Infinity);
    }
    for (let k = width / 2 - 1; k >= 1; k--) {
      sums[k] = sums[2 * k]! + sums[2 * k + 1]!;
      mins[k] = Math.min(mins[2 * k]!, mins[2 * k + 1]!);
    }
  }

  /**
   * The leaf whose cumulative range contains `u` (0 ≤ u < total): leaf i is returned for u in
   * [Σ_{j<i} leaf_j, Σ_{j≤i} leaf_j). Where rounding pushes `u` past a subtree's sum, the descent
   * stays on the non-empty side, so an empty leaf is never returned while the total is positive.
   */
  find(u: number): number {
    const sums = this.sums;
    const leaves = this.leaves;
    const width = this.width;
    const half = width >> 1;
    let k = 1;
    while (k < half) {
      const c = 2 * k;
      const left = sums[c]!;
      if (u < left || sums[c + 1] === 0) k = c;
      else {
        u -= left;
        k = c + 1;
      }
    }
    const l = 2 * k - width;
    return u < leaves[l]! || leaves[l + 1] === 0 ? l : l + 1;
  }

  /** Bytes held by the tree's arrays. */
  bytes(): number {
    return this.leaves.byteLength + this.sums.byteLength + this.mins.byteLength;
  }
}
