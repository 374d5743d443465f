/**
 * Per-episode bookkeeping for the replay ring: one slot per episode that still has transitions in
 * the buffer (not per transition), in growable typed columns, plus a pool of spare observation rows
 * for the observations that no stored transition holds (the final observation of an episode, and
 * the latest next-observation of an episode whose following step has not arrived yet).
 */

type Column = Int32Array | Uint8Array | Float32Array;

function grown<T extends Column>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}

/** A stack of free integers (slot or row numbers). */
class FreeList {
  items = new Int32Array(16);
  top = 0;

  push(v: number): void {
    if (this.top === this.items.length) this.items = grown(this.items, this.items.length * 2);
    this.items[this.top++] = v;
  }

  pop(): number {
    return this.top > 0 ? this.items[--this.top]! : -1;
  }
}

/** Spare observation rows of `dim` floats, allocated and freed by row number. */
export class RowPool {
  readonly dim: number;
  rows: Float32Array;
  /** Rows ever handed out (rows ≥ highWater were never used). */
  highWater = 0;
  private readonly free = new FreeList();

  constructor(dim: number, initialRows = 64) {
    this.dim = dim;
    this.rows = new Float32Array(Math.max(1, initialRows) * dim);
  }

  alloc(): number {
    const r = this.free.pop();
    if (r >= 0) return r;
    if ((this.highWater + 1) * this.dim > this.rows.length) this.rows = grown(this.rows, this.rows.length * 2);
    return this.highWater++;
  }

  release(row: number): void {
    this.free.push(row);
  }

  get inUse(): number {
    return this.highWater - this.free.top;
  }

  /** State for snapshots: the used rows and the free list. */
  exportState(): { rows: Float32Array; free: Int32Array } {
    return { rows: this.rows.subarray(0, this.highWater * this.dim), free: this.free.items.subarray(0, this.free.top) };
  }

  importState(rows: Float32Array, free: Int32Array): void {
    this.highWater = rows.length / this.dim;
    this.rows = new Float32Array(Math.max(rows.length, this.dim * 64));
    this.rows.set(rows);
    this.free.items = new Int32Array(Math.max(16, free.length));
    this.free.items.set(free);
    this.free.top = free.length;
  }
}

/**
 * Episodes with transitions in the buffer, keyed by the caller's episode id. Transitions of one
 * episode form a forward-linked chain in the ring (`TransitionStore.next`) from `first` to `last`.
 */
export class EpisodeTable {
  id = new Int32Array(64);
  first = new Int32Array(64);
  last = new Int32Array(64);
  lastStep = new Int32Array(64);
  length = new Int32Array(64);
  finished = new Uint8Array(64);
  highWater = 0;
  private readonly slotOf = new Map<number, number>();
  private readonly free = new FreeList();

  get count(): number {
    return this.slotOf.size;
  }

  slot(id: number): number {
    return this.slotOf.get(id) ?? -1;
  }

  open(id: number, index: number, step: number): number {
    let s = this.free.pop();
    if (s < 0) {
      if (this.highWater === this.id.length) this.grow();
      s = this.highWater++;
    }
    this.slotOf.set(id, s);
    this.id[s] = id;
    this.first[s] = index;
    this.last[s] = index;
    this.lastStep[s] = step;
    this.length[s] = 1;
    this.finished[s] = 0;
    return s;
  }

  release(s: number): void {
    this.slotOf.delete(this.id[s]!);
    this.length[s] = 0;
    this.free.push(s);
  }

  /** Slots in use, in slot order (independent of the map's history, so snapshots replay alike). */
  forEach(fn: (slot: number) => void): void {
    for (let s = 0; s < this.highWater; s++) if (this.length[s]! > 0) fn(s);
  }

  private grow(): void {
    const n = this.id.length * 2;
    this.id = grown(this.id, n);
    this.first = grown(this.first, n);
    this.last = grown(this.last, n);
    this.lastStep = grown(this.lastStep, n);
    this.length = grown(this.length, n);
    this.finished = grown(this.finished, n);
  }

  /** State for snapshots: the slot columns up to the high-water mark and the free slots. */
  exportState(): Record<string, Int32Array | Uint8Array> {
    const h = this.highWater;
    return {
      id: this.id.subarray(0, h),
      first: this.first.subarray(0, h),
      last: this.last.subarray(0, h),
      lastStep: this.lastStep.subarray(0, h),
      length: this.length.subarray(0, h),
      finished: this.finished.subarray(0, h),
      free: this.free.items.subarray(0, this.free.top),
    };
  }

  importState(s: Record<string, ArrayLike<number>>): void {
    const h = s.id!.length;
    const n = Math.max(64, h);
    const fill = <T extends Column>(ctor: new (n: number) => T, src: ArrayLike<number>): T => {
      const a = new ctor(n);
      a.set(src as never);
      return a;
    };
    this.id = fill(Int32Array, s.id!);
    this.first = fill(Int32Array, s.first!);
    this.last = fill(Int32Array, s.last!);
    this.lastStep = fill(Int32Array, s.lastStep!);
    this.length = fill(Int32Array, s.length!);
    this.finished = fill(Uint8Array, s.finished!);
    this.highWater = h;
    const free = s.free!;
    this.free.items = new Int32Array(Math.max(16, free.length));
    this.free.items.set(free);
    this.free.top = free.length;
    this.slotOf.clear();
    const isFree = new Uint8Array(h);
    for (let k = 0; k < free.length; k++) isFree[free[k]!] = 1;
    for (let sl = 0; sl < h; sl++) if (!isFree[sl]) this.slotOf.set(this.id[sl]!, sl);
  }
}
