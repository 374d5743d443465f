/**
 * Ring of transitions in typed arrays. Each transition is one record of `stride` 32-bit words:
 * its observation (obsDim float32), META_WIDTH words (next link, episode id, step, flags | discrete
 * action, reward) and STAT_WIDTH float32 words that the buffer keeps its per-transition statistics
 * in; continuous actions have their own array. A draw from a million transitions is bound by memory
 * latency, much of it the TLB miss of each random page touched: with everything a sampled
 * transition needs in one record, a draw touches one page (two cache lines) instead of one per
 * column (in a gather micro-benchmark at 1M transitions, about 40% less time than obs, meta and
 * statistics in separate arrays).
 * Memory at 1M LunarLander transitions: 68 MB (17 words each).
 *
 * Next observations are stored by reference: `next(i) ≥ 0` is the ring index of the following step
 * of the same episode, whose `obs` row is transition i's next observation; `next(i) < 0` encodes a
 * row `-next(i) - 1` of a small spare-row pool that holds the next observation when no stored
 * transition does (the final observation of an episode, or the latest step of a running episode).
 * The same links make episodes walkable although a vector env interleaves the steps of several
 * episodes in the ring: `sampleSequences` and n-step returns follow `next`, never `i + 1`.
 *
 * The ring is FIFO, so a transition is always evicted after its predecessor in the episode: the
 * evicted index is the first of its episode's chain and nothing points to it.
 */
import { QttdmError, show } from "../core/errors.js";
import { EpisodeTable, RowPool } from "./episodes.js";

export type ActionSpec = { kind: "discrete"; n: number } | { kind: "continuous"; dim: number };

/** What a buffer stores, fixed at construction. */
export interface ReplaySpec {
  obsDim: number;
  action: ActionSpec;
  /** The agent's discount, used for n-step returns at sample time. */
  gamma: number;
}

/**
 * k transitions, batch-major. Several episodes may be interleaved (one transition per vector-env
 * copy); steps of one episode must arrive in order, `stepInEpisode` increasing by one, and each
 * step's `obs` must equal the previous step's `nextObs`.
 */
export interface TransitionBatch {
  obs: Float32Array; // [k * obsDim]
  action: ArrayLike<number>; // [k] discrete, [k * dim] continuous
  reward: ArrayLike<number>; // [k]
  terminated: ArrayLike<number>; // [k], 0/1
  truncated: ArrayLike<number>; // [k], 0/1
  nextObs: Float32Array; // [k * obsDim]
  episodeId: ArrayLike<number>; // [k], integers in [0, 2^31)
  stepInEpisode: ArrayLike<number>; // [k], 0 for the first step
}

export class ReplayDataError extends QttdmError {}

const TERMINATED = 1;
const TRUNCATED = 2;
export const META_WIDTH = 5;
/** Words of a record reserved for the buffer's statistics (see `TransitionStore.stats`). */
export const STAT_WIDTH = 4;
const NEXT = 0;
const EPISODE = 1;
const STEP = 2;
const FLAGS = 3;
const REWARD = 4;

export class TransitionStore {
  readonly capacity: number;
  readonly obsDim: number;
  /** Floats per stored action (1 for discrete). */
  readonly actionWidth: number;
  readonly spec: ReplaySpec;
  /** 32-bit words per record: obsDim + META_WIDTH + STAT_WIDTH. */
  readonly stride: number;
  /**
   * The records [capacity × stride] as float32: transition i's observation is
   * obs[i * stride + k], k < obsDim. The other views share this memory.
   */
  readonly obs: Float32Array;
  /** The records as int32 from word obsDim on: meta[i * stride + k], k < META_WIDTH. */
  readonly meta: Int32Array;
  /** `meta` as float32 (the reward word). */
  readonly metaF: Float32Array;
  /** The records as float32 from word obsDim + META_WIDTH on: stats[i * stride + k], k < STAT_WIDTH. */
  readonly stats: Float32Array;
  /** Continuous actions [capacity * dim] (null for discrete actions, which live in `meta`). */
  readonly actionVec: Float32Array | null;
  readonly episodes = new EpisodeTable();
  readonly pool: RowPool;
  /** Transitions ever added; the next write goes to `added % capacity`. */
  added = 0;

  constructor(spec: ReplaySpec, capacity: number) {
    validateSpec(spec);
    this.spec = spec;
    this.capacity = capacity;
    const d = spec.obsDim;
    this.obsDim = d;
    const w = d + META_WIDTH + STAT_WIDTH;
    this.stride = w;
    const words = new ArrayBuffer(capacity * w * 4);
    this.obs = new Float32Array(words);
    // The views start at their first word so that field k of record i is always [i * stride + k].
    this.meta = new Int32Array(words, d * 4);
    this.metaF = new Float32Array(words, d * 4);
    this.stats = new Float32Array(words, (d + META_WIDTH) * 4);
    this.actionWidth = spec.action.kind === "discrete" ? 1 : spec.action.dim;
    this.actionVec = spec.action.kind === "discrete" ? null : new Float32Array(capacity * spec.action.dim);
    this.pool = new RowPool(d);
  }

  get size(): number {
    return Math.min(this.added, this.capacity);
  }

  get head(): number {
    return this.added % this.capacity;
  }

  /** Ring index of the next step of i's episode (≥ 0), or a spare-row reference (< 0). */
  next(i: number): number {
    return this.meta[i * this.stride + NEXT]!;
  }

  episodeOf(i: number): number {
    return this.meta[i * this.stride + EPISODE]!;
  }

  stepOf(i: number): number {
    return this.meta[i * this.stride + STEP]!;
  }

  rewardOf(i: number): number {
    return this.metaF[i * this.stride + REWARD]!;
  }

  /** Discrete action of i (for continuous actions read `actionVec`). */
  actionOf(i: number): number {
    return this.meta[i * this.stride + FLAGS]! >> 2;
  }

  terminated(i: number): boolean {
    return (this.meta[i * this.stride + FLAGS]! & TERMINATED) !== 0;
  }

  truncated(i: number): boolean {
    return (this.meta[i * this.stride + FLAGS]! & TRUNCATED) !== 0;
  }

  /** True when transition i ends its episode (terminated or truncated). */
  ends(i: number): boolean {
    return (this.meta[i * this.stride + FLAGS]! & 3) !== 0;
  }

  /** Copy transition i's action into `out` at `offset` (one value for discrete actions). */
  copyAction(i: number, out: Int32Array | Float32Array, offset: number): void {
    const v = this.actionVec;
    if (v === null) {
      out[offset] = this.meta[i * this.stride + FLAGS]! >> 2;
      return;
    }
    const w = this.actionWidth;
    for (let k = 0; k < w; k++) out[offset + k] = v[i * w + k]!;
  }

  /** Copy transition i's next observation into `out` at `offset`. */
  copyNextObs(i: number, out: Float32Array, offset: number): void {
    const d = this.obsDim;
    const nx = this.meta[i * this.stride + NEXT]!;
    const src = nx >= 0 ? this.obs : this.pool.rows;
    let s = nx >= 0 ? nx * this.stride : (-nx - 1) * d;
    for (let k = 0; k < d; k++) out[offset + k] = src[s++]!;
  }

  /** Check the shapes and values of a batch; returns k. Nothing is written. */
  checkBatch(b: TransitionBatch): number {
    const k = b.reward.length;
    const d = this.obsDim;
    const expect = (name: string, len: number, want: number) => {
      if (len !== want) throw new ReplayDataError(`add(): ${name} has length ${len}, expected ${want} (k = ${k} transitions from reward.length)`);
    };
    expect("obs", b.obs.length, k * d);
    expect("nextObs", b.nextObs.length, k * d);
    expect("action", b.action.length, k * this.actionWidth);
    expect("terminated", b.terminated.length, k);
    expect("truncated", b.truncated.length, k);
    expect("episodeId", b.episodeId.length, k);
    expect("stepInEpisode", b.stepInEpisode.length, k);
    const a = this.spec.action;
    for (let j = 0; j < k; j++) {
      const id = b.episodeId[j]!;
      if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) throw new ReplayDataError(`add(): episodeId[${j}] = ${show(id)}, expected an integer in [0, 2^31)`);
      const st = b.stepInEpisode[j]!;
      if (!Number.isInteger(st) || st < 0 || st > 0x7fffffff) throw new ReplayDataError(`add(): stepInEpisode[${j}] = ${show(st)}, expected a non-negative integer`);
      if (a.kind === "discrete") {
        const v = b.action[j]!;
        if (!Number.isInteger(v) || v < 0 || v >= a.n) throw new ReplayDataError(`add(): action[${j}] = ${show(v)}, expected an integer in [0, ${a.n})`);
      }
    }
    return k;
  }

  /**
   * Check that transition j of `b` may be written at `head` (episode continuity) before anything is
   * changed, so a refused transition leaves the buffer as it was.
   */
  checkContinuity(b: TransitionBatch, j: number): void {
    const id = b.episodeId[j]!;
    const s = this.episodes.slot(id);
    if (s < 0) return;
    const head = this.head;
    const last = this.episodes.last[s]!;
    // The episode disappears with this write's eviction, so the transition starts a fresh chain.
    if (this.added >= this.capacity && this.episodes.first[s] === head && last === head) return;
    const step = b.stepInEpisode[j]!;
    if (this.episodes.finished[s]) {
      throw new ReplayDataError(`add(): episode ${id} already ended at step ${this.episodes.lastStep[s]}, got another transition (step ${step}); episode ids must be unique`);
    }
    if (step !== this.episodes.lastStep[s]! + 1) {
      throw new ReplayDataError(`add(): episode ${id} step ${step} follows step ${this.episodes.lastStep[s]}, expected step ${this.episodes.lastStep[s]! + 1}`);
    }
    const d = this.obsDim;
    const row = -this.next(last) - 1;
    const rows = this.pool.rows;
    for (let k = 0; k < d; k++) {
      const x = b.obs[j * d + k]!;
      const y = rows[row * d + k]!;
      if (x !== y && !(x !== x && y !== y)) {
        throw new ReplayDataError(
          `add(): episode ${id} step ${step}: obs[${k}] = ${x} differs from the nextObs[${k}] = ${y} given for step ${step - 1}; ` +
            "the buffer stores next observations by reference and needs them equal",
        );
      }
    }
  }

  /** Remove the transition at `i` (the oldest) from its episode. Returns its episode slot (-1 if the episode is gone). */
  evict(i: number): number {
    const s = this.episodes.slot(this.episodeOf(i));
    const nx = this.next(i);
    if (nx >= 0) {
      this.episodes.first[s] = nx;
      this.episodes.length[s]!--;
      return s;
    }
    this.pool.release(-nx - 1);
    this.episodes.release(s);
    return -1;
  }

  /** Write transition j of `b` at `head` (already evicted and checked). Returns its episode slot. */
  write(b: TransitionBatch, j: number): number {
    const i = this.head;
    const d = this.obsDim;
    const obs = this.obs;
    const r = i * this.stride;
    for (let k = 0; k < d; k++) obs[r + k] = b.obs[j * d + k]!;
    const id = b.episodeId[j]!;
    const step = b.stepInEpisode[j]!;
    const flags = (b.terminated[j] ? TERMINATED : 0) | (b.truncated[j] ? TRUNCATED : 0);
    const meta = this.meta;
    meta[r + EPISODE] = id;
    meta[r + STEP] = step;
    this.metaF[r + REWARD] = b.reward[j]!;
    const vec = this.actionVec;
    if (vec === null) meta[r + FLAGS] = flags | (b.action[j]! << 2);
    else {
      meta[r + FLAGS] = flags;
      const w = this.actionWidth;
      for (let k = 0; k < w; k++) vec[i * w + k] = b.action[j * w + k]!;
    }
    const ep = this.episodes;
    let s = ep.slot(id);
    if (s >= 0) {
      const last = ep.last[s]!;
      this.pool.release(-this.next(last) - 1);
      meta[last * this.stride + NEXT] = i;
      ep.last[s] = i;
      ep.lastStep[s] = step;
      ep.length[s]!++;
    } else {
      s = ep.open(id, i, step);
    }
    const row = this.pool.alloc();
    const rows = this.pool.rows;
    for (let k = 0; k < d; k++) rows[row * d + k] = b.nextObs[j * d + k]!;
    meta[r + NEXT] = -row - 1;
    if (flags) ep.finished[s] = 1;
    this.added++;
    return s;
  }

  /**
   * Records [0, n) as dense columns (obs [n × obsDim], meta [n × META_WIDTH], stats
   * [n × STAT_WIDTH]): the snapshot format, independent of the record layout.
   */
  exportColumns(n: number): { obs: Float32Array; meta: Int32Array; stats: Float32Array } {
    const obs = new Float32Array(n * this.obsDim);
    const meta = new Int32Array(n * META_WIDTH);
    const stats = new Float32Array(n * STAT_WIDTH);
    this.copyColumns(n, obs, meta, stats, true);
    return { obs, meta, stats };
  }

  /** Write records [0, n) from dense columns (the inverse of `exportColumns`). */
  importColumns(n: number, obs: Float32Array, meta: Int32Array, stats: Float32Array): void {
    this.copyColumns(n, obs, meta, stats, false);
  }

  private copyColumns(n: number, obs: Float32Array, meta: Int32Array, stats: Float32Array, out: boolean): void {
    const runs: Array<[Float32Array | Int32Array, Float32Array | Int32Array, number]> = [
      [this.obs, obs, this.obsDim],
      [this.meta, meta, META_WIDTH],
      [this.stats, stats, STAT_WIDTH],
    ];
    const w = this.stride;
    for (const [rec, dense, width] of runs) {
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < width; k++) {
          if (out) dense[i * width + k] = rec[i * w + k]!;
          else rec[i * w + k] = dense[i * width + k]!;
        }
      }
    }
  }

  /** Bytes held by the records, the episode table and the spare-row pool. */
  bytes(): number {
    const e = this.episodes;
    return (
      this.obs.byteLength + (this.actionVec?.byteLength ?? 0) + this.pool.rows.byteLength +
      e.id.byteLength * 5 + e.finished.byteLength
    );
  }
}

function validateSpec(spec: ReplaySpec): void {
  if (!Number.isInteger(spec.obsDim) || spec.obsDim < 1) throw new QttdmError(`ReplaySpec.obsDim = ${show(spec.obsDim)}, expected a positive integer`);
  const a = spec.action;
  if (a?.kind === "discrete") {
    if (!Number.isInteger(a.n) || a.n < 1 || a.n > 2 ** 29) throw new QttdmError(`ReplaySpec.action.n = ${show(a.n)}, expected an integer in [1, 2^29]`);
  } else if (a?.kind === "continuous") {
    if (!Number.isInteger(a.dim) || a.dim < 1) throw new QttdmError(`ReplaySpec.action.dim = ${show(a.dim)}, expected a positive integer`);
  } else {
    throw new QttdmError(`ReplaySpec.action = ${show(a)}, expected {kind: "discrete", n} or {kind: "continuous", dim}`);
  }
  if (!(spec.gamma >= 0 && spec.gamma <= 1)) throw new QttdmError(`ReplaySpec.gamma = ${show(spec.gamma)}, expected a number in [0, 1]`);
}
