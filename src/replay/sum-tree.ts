/**
 * Sum-tree and min-tree over one array of leaf priorities, for proportional prioritised sampling.
 *
 * The tree is 8-ary: a node's 8 children are contiguous, so one 64-byte cache line holds all the
 * child sums a descent compares at a level. At 1M leaves the depth is 7 instead of 20, and the
 * descents and updates of a replay batch, which land on random leaves, touch about a third of the
 * cache lines of a binary tree (random memory access is what limits the sampler's speed).
 *
 * Layout: `leaves` (float32, a priority needs no more) padded to a multiple of 8; internal levels
 * bottom-up in one float64 array of sums (the total stays exact to float64 rounding) and one
 * float32 array of minima (a min of float32 values is exact), each level padded to a multiple of 8.
 * Every update recomputes its ancestors from their children in a fixed order instead of adding a
 * delta, so internal nodes are always a pure function of the leaves: no drift, and a rebuild from
 * the leaves reproduces them bit for bit (snapshots store only the leaves).
 *
 * A leaf of 0 is an empty slot: it is never sampled and the min-tree ignores it, so occupied slots
 * must hold priorities > 0.
 */
import { touch } from "./prefetch.js";

const B = 8;
const SHIFT = 3;
/** Bit pattern of float32 +Infinity. */
const INF_BITS = 0x7f800000;

/** Levels larger than this are warmed before a batch of descents reads them (prefetch.ts). */
const TOUCH_BYTES = 256 * 1024;

/**
 * One level of `findMany`: out[b] (a node of the level above) becomes the child of it whose
 * cumulative range in `a` (starting at `off`) contains u[b] ≥ 0, and u[b] becomes the offset into it.
 *
 * The child is the number c of prefix sums p_1..p_8 of the children that are ≤ u, counted without
 * branches: which child a random draw takes is unpredictable, and a scan that branches on it
 * mispredicts about once per level and item, which cost more than the memory accesses. The offset
 * is then u − p_c with p_c = Σ_{k<c} a_k summed in child order (the terms for k ≥ c are +0), so a
 * descent gives bit for bit what a sequential scan for the first child with u < p_{k+1} gives.
 * That child is never empty: u ≥ p_c and u < p_{c+1} = p_c + a_c need a_c > 0. Only when rounding
 * pushes u to or past the group's sum (c = 8) is the last non-empty child taken instead.
 */
function descend(a: Float64Array | Float32Array, off: number, u: Float64Array, out: Int32Array, n: number, warm: boolean): void {
  if (warm) touch(a, out, n, B, off, B);
  for (let b = 0; b < n; b++) {
    const j = out[b]!;
    const base = off + (j << SHIFT);
    const x = u[b]!;
    const a0 = a[base]!;
    const a1 = a[base + 1]!;
    const a2 = a[base + 2]!;
    const a3 = a[base + 3]!;
    const a4 = a[base + 4]!;
    const a5 = a[base + 5]!;
    const a6 = a[base + 6]!;
    const p2 = a0 + a1;
    const p3 = p2 + a2;
    const p4 = p3 + a3;
    const p5 = p4 + a4;
    const p6 = p5 + a5;
    const p7 = p6 + a6;
    const p8 = p7 + a[base + 7]!;
    // 0/1 from a comparison, which the compiler materialises without a branch.
    const m1 = +(x >= a0);
    const m2 = +(x >= p2);
    const m3 = +(x >= p3);
    const m4 = +(x >= p4);
    const m5 = +(x >= p5);
    const m6 = +(x >= p6);
    const m7 = +(x >= p7);
    const m8 = +(x >= p8);
    let c = m1 + m2 + m3 + m4 + m5 + m6 + m7 + m8;
    let acc = a0 * m1 + a1 * m2 + a2 * m3 + a3 * m4 + a4 * m5 + a5 * m6 + a6 * m7;
    if (c === B) {
      c = B - 1;
      while (c > 0 && !(a[base + c]! > 0)) c--;
      acc = 0;
      for (let k = 0; k < c; k++) acc += a[base + k]!;
    }
    out[b] = (j << SHIFT) + c;
    u[b] = x - acc;
  }
}

export class PriorityTree {
  readonly capacity: number;
  readonly leaves: Float32Array;
  private readonly sums: Float64Array;
  private readonly mins: Float32Array;
  /**
   * `leaves` and `mins` as their bit patterns. For floats ≥ 0 (and +Infinity) the bit patterns
   * order like the values, so minima are taken on them with integer arithmetic, without branches:
   * a comparison branch on random priorities is mispredicted about once per node, and that made
   * the minima cost twice the sums.
   */
  private readonly leafBits: Int32Array;
  private readonly minBits: Int32Array;
  /** offsets[l] = start of internal level l (l = 0: parents of leaves; last: the root). */
  private readonly offsets: Int32Array;
  private readonly root: number;
  /** Nodes of each internal level without its padding (the padding nodes stay 0 / Infinity). */
  private readonly counts: Int32Array;
  /** Node indices of the level being fixed (scratch of `fixLeaves`). */
  private scratch = new Int32Array(0);

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`PriorityTree capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    const pad = (n: number) => Math.ceil(n / B) * B;
    this.leaves = new Float32Array(pad(capacity));
    this.leafBits = new Int32Array(this.leaves.buffer);
    const offsets: number[] = [];
    let total = 0;
    let n = Math.ceil(capacity / B);
    for (;;) {
      offsets.push(total);
      if (n === 1) {
        total += 1;
        break;
      }
      total += pad(n);
      n = Math.ceil(n / B);
    }
    this.offsets = Int32Array.from(offsets);
    this.counts = new Int32Array(offsets.length);
    for (let l = 0, c = Math.ceil(capacity / B); l < offsets.length; l++, c = Math.ceil(c / B)) this.counts[l] = c;
    this.root = total - 1;
    this.sums = new Float64Array(total);
    this.mins = new Float32Array(total).fill(Infinity);
    this.minBits = new Int32Array(this.mins.buffer);
  }

  /** Sum of all leaves. */
  total(): number {
    return this.sums[this.root]!;
  }

  /** Smallest non-zero leaf (Infinity when the tree is empty). */
  min(): number {
    return this.mins[this.root]!;
  }

  get(i: number): number {
    return this.leaves[i]!;
  }

  /** Set leaf i to `value` (≥ 0, finite) and fix its ancestors: O(log N). */
  set(i: number, value: number): void {
    this.leaves[i] = value;
    let j = i >> SHIFT;
    this.fixParent(j);
    for (let l = 1; l < this.offsets.length; l++) {
      j >>= SHIFT;
      this.fixNode(l, j);
    }
  }

  /** Recompute node j of internal level 0 from its leaves. */
  private fixParent(j: number): void {
    const leaves = this.leaves;
    const bits = this.leafBits;
    const c = j << SHIFT;
    let s = 0;
    let m = INF_BITS;
    for (let k = 0; k < B; k++) {
      s += leaves[c + k]!;
      // An empty leaf (±0) counts as +Infinity: (v − 1) >> 31 is all ones for v = 0 only.
      const v = bits[c + k]! & 0x7fffffff;
      const d = m - (v | (((v - 1) >> 31) & INF_BITS));
      m -= d & ~(d >> 31);
    }
    this.sums[j] = s;
    this.minBits[j] = m;
  }

  /** Recompute node j of internal level l ≥ 1 from its children on level l − 1. */
  private fixNode(l: number, j: number): void {
    const sums = this.sums;
    const bits = this.minBits;
    const c = this.offsets[l - 1]! + (j << SHIFT);
    let s = 0;
    let m = INF_BITS;
    for (let k = 0; k < B; k++) {
      s += sums[c + k]!;
      const d = m - bits[c + k]!;
      m -= d & ~(d >> 31);
    }
    const at = this.offsets[l]! + j;
    sums[at] = s;
    bits[at] = m;
  }

  /**
   * Fix the ancestors of `count` leaves whose values were written directly into `leaves`, level by
   * level: the loads for different leaves are independent, so the CPU overlaps their cache misses
   * (the speed-up over one `set` at a time is large on a 1M-leaf tree). Same result as `set`.
   */
  fixLeaves(indices: Int32Array, count: number): void {
    if (this.scratch.length < count) this.scratch = new Int32Array(count);
    const j = this.scratch;
    for (let b = 0; b < count; b++) j[b] = indices[b]! >> SHIFT;
    // A parent equal to the previous entry's was just recomputed: a batch drawn by `findMany` comes
    // sorted, and leaves of one episode come in ring order, so above the bottom level most entries
    // are skipped this way.
    for (let b = 0; b < count; b++) if (b === 0 || j[b] !== j[b - 1]) this.fixParent(j[b]!);
    for (let l = 1; l < this.offsets.length; l++) {
      // Near the root a batch revisits the same few nodes again and again: recomputing the whole
      // level is less work then, and so are all the levels above it.
      if (this.counts[l]! <= count) {
        for (; l < this.offsets.length; l++) this.recomputeLevel(l);
        return;
      }
      for (let b = 0; b < count; b++) {
        const p = j[b]! >> SHIFT;
        const again = b > 0 && p === j[b - 1];
        j[b] = p;
        if (!again) this.fixNode(l, p);
      }
    }
  }

  /** Recompute every internal node from the leaves: O(N). Used after bulk leaf writes. */
  rebuild(): void {
    const count = this.counts[0]!;
    for (let j = 0; j < count; j++) this.fixParent(j);
    for (let l = 1; l < this.offsets.length; l++) this.recomputeLevel(l);
  }

  /** Recompute every node of internal level l ≥ 1 from the level below. */
  private recomputeLevel(l: number): void {
    const count = this.counts[l]!;
    for (let j = 0; j < count; j++) this.fixNode(l, j);
  }

  /**
   * The leaf whose cumulative range contains `u` (0 ≤ u < total): leaf i is returned for u in
   * [Σ_{j<i} leaf_j, Σ_{j≤i} leaf_j). Where rounding pushes `u` past a subtree's sum, the descent
   * takes that subtree's last non-empty child, so an empty leaf is never returned while the total
   * is positive.
   */
  find(u: number): number {
    const one = new Float64Array([u]);
    const out = new Int32Array(1);
    this.findMany(one, out);
    return out[0]!;
  }

  /**
   * `find` for the first n values of `u` (overwritten) into `out`, level by level so that the descents'
   * independent cache misses overlap.
   */
  findMany(u: Float64Array, out: Int32Array, n = u.length): void {
    out.fill(0, 0, n);
    // A negative (or NaN) u selects what u = 0 selects: the first non-empty leaf.
    for (let b = 0; b < n; b++) if (!(u[b]! > 0)) u[b] = 0;
    // From the root's children (level H−2) down to the leaves.
    for (let l = this.offsets.length - 2; l >= 0; l--) {
      descend(this.sums, this.offsets[l]!, u, out, n, this.counts[l]! * Float64Array.BYTES_PER_ELEMENT > TOUCH_BYTES);
    }
    descend(this.leaves, 0, u, out, n, this.leaves.byteLength > TOUCH_BYTES);
  }

  /** Bytes held by the tree's arrays. */
  bytes(): number {
    return this.leaves.byteLength + this.sums.byteLength + this.mins.byteLength;
  }
}
