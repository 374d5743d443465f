/**
 * The replay buffer, composed as TorchRL composes its: the storage (storage.ts: a columnar ring of
 * transitions with their episodes), per-transition statistics (stats.ts), a sampler (samplers/:
 * uniform, PER, ReaPER+, over the sum-tree) and a reliability estimator (reliability/: td-spread,
 * episode, ensemble), chosen by `replay.sampler` and `replay.reliability` through their
 * registries, plus the arena its batches are cut from (arena.ts). The buffer owns what is common
 * to every sampler: adds and evictions, draws and their telemetry, n-step returns, sequences,
 * priority reports, rebuilds ("refresh": the estimator's exact recompute, then every leaf) and
 * snapshots, in which the sampler and the estimator each keep their own state.
 * See docs/algorithms.md for the formulas.
 *
 * Sampling depends only on the buffer's state, the step and the given Rng (no clock, no hidden
 * generator), so a frozen buffer replays a logged schedule exactly (frozen.ts).
 */
import { ConfigError, DivergenceError, FileFormatError, QttdmError, show } from "../core/errors.js";
import type { Rng } from "../core/rng.js";
import { scheduleValue, type ScheduleSpec } from "../core/schedule.js";
import { BatchArena } from "./arena.js";
import { replayConfigSchema, type ReplayConfig, type ReplayConfigInput } from "./config.js";
import { touch } from "./prefetch.js";
import { ESTIMATORS, type ReliabilityEstimator } from "./reliability/index.js";
import { drawUniform, SAMPLERS, type Sampler } from "./samplers/index.js";
import { readSnapshot, writeSnapshot, type SnapshotArray } from "./snapshot.js";
import { STAT, TransitionStats, type Part, type PartReader, type PriorityUpdate } from "./stats.js";
import { META_WIDTH, STAT_WIDTH, TransitionStore, type ReplaySpec, type TransitionBatch } from "./storage.js";
import type { PriorityTree } from "./sum-tree.js";

export type { ReplaySpec, TransitionBatch, ActionSpec } from "./storage.js";
export { ReplayDataError } from "./storage.js";
export { STAT, type PriorityUpdate } from "./stats.js";

const TD = STAT.tdError;
const SURPRISE = STAT.surprise;
const SAMPLED = STAT.timesSampled;
const SNAPSHOT_KIND = "replay-buffer";
/** 2: the sampler's and the estimator's state each in its own namespace; 1: one flat state (still read). */
const SNAPSHOT_SCHEMA = 2;

/** How a batch was drawn, and the statistics of what was drawn (for telemetry). */
export interface SampleInfo {
  step: number;
  /** Exponents in force: PER α (or ReaPER+ α(t) of the last rebuild), ReaPER+ β, IS β. */
  alpha: number;
  beta: number;
  isBeta: number;
  /** True when this call rebuilt the priorities. */
  refreshed: boolean;
  /** Per drawn item (sequence starts for sequences): |last δ| (NaN if never reported). */
  tdAbs: Float32Array;
  /** Reliability 1 − ρ as used by the sampler. */
  reliability: Float32Array;
  /** Last reported surprise (NaN if none). */
  surprise: Float32Array;
  weights: Float32Array;
}

/**
 * The arrays of a batch are views cut from a shared slab (arena.ts): they stay valid and unchanged
 * for as long as the caller keeps them (unless drawn with `recycle`), but `.buffer` is the slab, so
 * use byteOffset/byteLength.
 */
export interface SampledBatch {
  n: number;
  indices: Int32Array; // [n]
  /** Importance weights (1 when uniform or isCorrection is off). */
  weights: Float32Array; // [n]
  obs: Float32Array; // [n * obsDim]
  action: Int32Array | Float32Array; // [n] discrete, [n * dim] continuous
  reward: Float32Array; // [n]
  nextObs: Float32Array; // [n * obsDim]
  terminated: Uint8Array; // [n]
  truncated: Uint8Array; // [n]
  episodeId: Int32Array; // [n]
  stepInEpisode: Int32Array; // [n]
  /** n-step target pieces: y = returns + discount · (1 − done) · V(bootstrapObs). With nStep = 1
   *  these share storage with reward / nextObs / terminated. */
  returns: Float32Array; // [n]  Σ_{k<K} γ^k r_{t+k}
  bootstrapObs: Float32Array; // [n * obsDim]  next observation of the K-th step
  discount: Float32Array; // [n]  γ^K actually applied
  done: Uint8Array; // [n]  the K-th step terminated (truncation is not termination)
  /** Transitions ever added when sampled; pass to updatePriorities to skip overwritten indices. */
  sampledAt: number;
  info: SampleInfo;
}

export interface SequenceBatch {
  n: number;
  len: number;
  starts: Int32Array; // [n]
  /** Ring index of each window step, -1 where masked. */
  indices: Int32Array; // [n * len]
  /** 1 where the step belongs to the window's episode and is stored; 0 after the episode's end
   *  (or after its latest stored step); masked steps are zero-filled. */
  mask: Uint8Array; // [n * len]
  /** IS weight of each window (that of its start). */
  weights: Float32Array; // [n]
  obs: Float32Array; // [n * len * obsDim]
  action: Int32Array | Float32Array; // [n * len (* dim)]
  reward: Float32Array; // [n * len]
  nextObs: Float32Array; // [n * len * obsDim]
  terminated: Uint8Array; // [n * len]
  truncated: Uint8Array; // [n * len]
  stepInEpisode: Int32Array; // [n * len]
  episodeId: Int32Array; // [n]
  sampledAt: number;
  info: SampleInfo;
}

/** Options of a draw (`sample`, `sampleSequences`). */
export interface DrawOptions {
  /**
   * Write this batch over the previous recycled batch of the same kind (sample or sequences)
   * instead of new memory: it stays valid only until the next recycled draw of that kind. For
   * callers that drop each batch before the next draw, such as the trainer; it saves the
   * allocation and the garbage collections it triggers (arena.ts).
   */
  recycle?: boolean;
}

export interface UpdateResult {
  updated: number;
  /** Indices skipped because the ring overwrote them since sampling. */
  stale: number;
}

/** The buffer's own counters (snapshots keep them; `samplerState` shows them with its parts'). */
export interface DrawCounters {
  /** Running max of |δ| + eps: the priority of transitions never reported. */
  maxPriority: number;
  /** sample/sampleSequences calls so far (the default step). */
  samples: number;
  lastStep: number;
  lastBatchSize: number;
  refreshes: number;
}

export type { ReplayConfigInput } from "./config.js";

export class ReplayBuffer {
  readonly spec: ReplaySpec;
  readonly config: ReplayConfig;
  readonly store: TransitionStore;
  /** Per-transition statistics and base priorities (stats.ts). */
  readonly priorities: TransitionStats;
  /** The statistics' words of the records: [i * store.stride + k], k = STAT.* (stats.ts). */
  readonly stats: Float32Array;
  readonly sampler: Sampler;
  readonly estimator: ReliabilityEstimator;
  private readonly counters: Omit<DrawCounters, "maxPriority"> = { samples: 0, lastStep: -1, lastBatchSize: 0, refreshes: 0 };
  private readonly isBetaSpec: ScheduleSpec;
  /** Where sampled batches are cut from (see arena.ts); recycled draws use one arena per kind. */
  private readonly arena = new BatchArena();
  private readonly recycledSamples = new BatchArena();
  private readonly recycledSequences = new BatchArena();
  /** Indices applied by `updatePriorities` (scratch). */
  private touched = new Int32Array(1024);
  /** Next links of the drawn transitions (scratch of `sample`). */
  private scratchNext = new Int32Array(0);
  /** Wall time spent rebuilding priorities (not part of the state: timing only). */
  refreshMs = 0;

  constructor(spec: ReplaySpec, config: ReplayConfigInput = {}) {
    const parsed = replayConfigSchema.safeParse(config);
    if (!parsed.success) {
      const msg = parsed.error.issues.map((i) => `replay.${i.path.join(".")}: ${i.message}`).join("; ");
      throw new ConfigError(`invalid replay config ${show(config)}: ${msg}`);
    }
    const c = parsed.data;
    this.config = c;
    this.spec = spec;
    this.store = new TransitionStore(spec, c.capacity);
    this.priorities = new TransitionStats(this.store, c.eps);
    this.stats = this.priorities.values;
    const parts = { config: c, store: this.store, stats: this.priorities };
    this.estimator = ESTIMATORS[c.reliability].create(parts);
    this.sampler = SAMPLERS[c.sampler].create({ ...parts, estimator: this.estimator });
    this.isBetaSpec = { kind: "linear", start: c.isBetaStart, end: c.isBetaEnd, duration: c.isBetaSteps };
  }

  get size(): number {
    return this.store.size;
  }

  get capacity(): number {
    return this.config.capacity;
  }

  /** Transitions ever added. */
  get added(): number {
    return this.store.added;
  }

  /** The sum-tree the sampler draws from (null: uniform). */
  get tree(): PriorityTree | null {
    return this.sampler.tree;
  }

  /** A copy of the buffer's counters and its sampler's and estimator's scalar state (for inspection and logging). */
  samplerState(): Readonly<DrawCounters & Record<string, number>> {
    return { maxPriority: this.priorities.maxPriority, ...this.sampler.scalars(), ...this.estimator.scalars(), ...this.counters };
  }

  /**
   * Append k transitions (see TransitionBatch). The batch is checked first; a transition that breaks
   * episode continuity is refused with a ReplayDataError and leaves the buffer as it was before
   * that transition (earlier transitions of the batch stay).
   */
  add(batch: TransitionBatch): void {
    const k = this.store.checkBatch(batch);
    for (let j = 0; j < k; j++) {
      this.store.checkContinuity(batch, j);
      const i = this.store.head;
      if (this.store.added >= this.capacity) {
        this.estimator.evicting(i, this.store.episodes.slot(this.store.episodeOf(i)));
        this.store.evict(i);
      }
      const slot = this.store.write(batch, j);
      this.priorities.reset(i);
      this.estimator.added(i, slot);
      this.sampler.added(i);
    }
  }

  /** One statistic of transitions [0, size) as a dense copy (for inspection and tests). */
  statistic(name: keyof typeof STAT): Float32Array {
    const n = this.size;
    const k = STAT[name];
    const w = this.priorities.stride;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.stats[i * w + k]!;
    return out;
  }

  /** Reliability 1 − ρ_i of a stored transition, as the sampler uses it. */
  reliability(i: number): number {
    return this.estimator.reliability(i);
  }

  /** P(i) under the current tree (uniform: 1/size). */
  probability(i: number): number {
    if (i < 0 || i >= this.size) return 0;
    return this.sampler.probability(i);
  }

  /** Bring derived state up to date for `step`: the estimator's pending work, a rebuild if due. */
  private prepare(step: number): boolean {
    this.estimator.prepare(this.sampler);
    const due = this.sampler.prepare(step);
    if (due) this.refresh();
    return due;
  }

  /**
   * Recompute every reliability exactly and every priority with the sampler's exponents in force,
   * and rebuild the tree: O(N).
   */
  refresh(): void {
    const t0 = performance.now();
    this.estimator.refresh();
    this.sampler.rebuild();
    this.counters.refreshes++;
    this.refreshMs += performance.now() - t0;
  }

  /** The number of stored transitions, after checking that n of them can be drawn. */
  private drawableSize(n: number): number {
    if (this.size === 0) throw new QttdmError("cannot sample from an empty replay buffer");
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`sample size must be a positive integer, got ${show(n)}`);
    return this.size;
  }

  /** Draw n indices (by the sampler when `prioritised`, else uniformly). */
  private draw(n: number, rng: Rng, step: number, prioritised: boolean, refreshed: boolean, out: BatchArena): { idx: Int32Array; info: SampleInfo } {
    const size = this.drawableSize(n);
    const idx = out.i32(n);
    const weights = out.f32(n);
    const isBeta = scheduleValue(this.isBetaSpec, step);
    const sampler = this.sampler;
    if (prioritised) sampler.draw(n, rng, isBeta, idx, weights);
    else drawUniform(size, n, rng, idx, weights);
    // The drawn records, before the loop below and the caller read them.
    const stride = this.store.stride;
    touch(this.store.obs, idx, n, stride, 0, stride);
    const tdAbs = out.f32(n);
    const reliability = out.f32(n);
    const surprise = out.f32(n);
    const stats = this.stats;
    for (let b = 0; b < n; b++) {
      const r = idx[b]! * stride;
      tdAbs[b] = Math.abs(stats[r + TD]!);
      surprise[b] = stats[r + SURPRISE]!;
      stats[r + SAMPLED]!++;
    }
    this.estimator.reliabilities(idx, n, reliability);
    const s = this.counters;
    s.samples++;
    s.lastStep = step;
    s.lastBatchSize = n;
    const info: SampleInfo = {
      step,
      alpha: sampler.alpha,
      beta: sampler.beta,
      isBeta: prioritised && sampler.tree && this.config.isCorrection ? isBeta : 0,
      refreshed,
      tdAbs,
      reliability,
      surprise,
      weights,
    };
    return { idx, info };
  }

  private newActions(n: number, out: BatchArena): Int32Array | Float32Array {
    return this.spec.action.kind === "discrete" ? out.i32(n) : out.f32(n * this.store.actionWidth);
  }

  /** The arena a draw cuts its arrays from (rewound first when recycling). */
  private outputArena(recycled: BatchArena, options: DrawOptions): BatchArena {
    if (!options.recycle) return this.arena;
    recycled.rewind();
    return recycled;
  }

  /**
   * n transitions drawn by the configured sampler. `step` drives the schedules (the trainer passes
   * its update counter); by default it is the number of earlier sample calls.
   */
  sample(n: number, rng: Rng, step: number = this.counters.samples, options: DrawOptions = {}): SampledBatch {
    const refreshed = this.prepare(step);
    const out = this.outputArena(this.recycledSamples, options);
    const { idx, info } = this.draw(n, rng, step, true, refreshed, out);
    return this.fill(idx, info, out);
  }

  /**
   * The stored transitions at `indices` (with n-step pieces, IS weight 1), in fresh memory; the
   * sampler and its telemetry are left alone. For re-measuring a fixed probe batch (replay.bandit).
   */
  gather(indices: Int32Array): SampledBatch {
    const n = indices.length;
    for (const i of indices) if (!(i >= 0 && i < this.size)) throw new RangeError(`gather: index ${i} is not a stored transition (size ${this.size})`);
    const out = new BatchArena();
    const idx = out.i32(n);
    idx.set(indices);
    const weights = out.f32(n).fill(1);
    const none = () => out.f32(n).fill(NaN);
    const info: SampleInfo = { step: this.counters.lastStep, alpha: 0, beta: 0, isBeta: 0, refreshed: false, tdAbs: none(), reliability: none(), surprise: none(), weights };
    return this.fill(idx, info, out);
  }

  /** The batch of the transitions at idx, its arrays cut from `out`. */
  private fill(idx: Int32Array, info: SampleInfo, out: BatchArena): SampledBatch {
    const n = idx.length;
    const st = this.store;
    const d = st.obsDim;
    const w = st.actionWidth;
    const obs = out.f32(n * d);
    const nextObs = out.f32(n * d);
    const action = this.newActions(n, out);
    const reward = out.f32(n);
    const terminated = out.u8(n);
    const truncated = out.u8(n);
    const episodeId = out.i32(n);
    const stepInEpisode = out.i32(n);
    // draw() has brought the drawn records into cache (prefetch.ts): one pass reads all of each.
    const src = st.obs;
    const stride = st.stride;
    if (this.scratchNext.length < n) this.scratchNext = new Int32Array(n);
    const next = this.scratchNext;
    for (let b = 0; b < n; b++) {
      const i = idx[b]!;
      for (let k = 0, o = i * stride, p = b * d; k < d; k++) obs[p + k] = src[o + k]!;
      st.copyAction(i, action, b * w);
      reward[b] = st.rewardOf(i);
      terminated[b] = st.terminated(i) ? 1 : 0;
      truncated[b] = st.truncated(i) ? 1 : 0;
      episodeId[b] = st.episodeOf(i);
      stepInEpisode[b] = st.stepOf(i);
      next[b] = st.next(i);
    }
    // The next observations are in other records (or spare rows): warm those lines first too.
    touch(src, next, n, stride, 0, d);
    for (let b = 0; b < n; b++) st.copyNextObs(idx[b]!, nextObs, b * d);
    const gamma = this.spec.gamma;
    let returns = reward;
    let bootstrapObs = nextObs;
    let done = terminated;
    const discount = out.f32(n).fill(gamma);
    if (this.config.nStep > 1) {
      returns = out.f32(n);
      bootstrapObs = out.f32(n * d);
      done = out.u8(n);
      for (let b = 0; b < n; b++) this.nStepReturn(idx[b]!, b, returns, bootstrapObs, discount, done);
    }
    return {
      n,
      indices: idx,
      weights: info.weights,
      obs,
      action,
      reward,
      nextObs,
      terminated,
      truncated,
      episodeId,
      stepInEpisode,
      returns,
      bootstrapObs,
      discount,
      done,
      sampledAt: st.added,
      info,
    };
  }

  /**
   * The observations of n stored transitions drawn uniformly, written into `out` (reference states,
   * such as churn reduction's). Apart from the draws taken from `rng`, the sampler's state and
   * telemetry are left alone: these states are not trained on.
   */
  sampleObservations(n: number, rng: Rng, out: Float32Array = new Float32Array(n * this.store.obsDim)): Float32Array {
    const size = this.drawableSize(n);
    const d = this.store.obsDim;
    if (out.length < n * d) throw new RangeError(`sampleObservations: out holds ${out.length} floats, ${n} observations need ${n * d}`);
    const src = this.store.obs;
    const stride = this.store.stride;
    for (let b = 0; b < n; b++) {
      const o = rng.integers(0, size) * stride;
      for (let k = 0, p = b * d; k < d; k++) out[p + k] = src[o + k]!;
    }
    return out;
  }

  /** Follow the episode from i for up to nStep rewards, stopping at its end or its latest stored step. */
  private nStepReturn(i: number, b: number, returns: Float32Array, boot: Float32Array, discount: Float32Array, done: Uint8Array): void {
    const st = this.store;
    const gamma = this.spec.gamma;
    let g = 0;
    let disc = 1;
    let j = i;
    for (let k = 1; ; k++) {
      g += disc * st.rewardOf(j);
      disc *= gamma;
      if (st.terminated(j)) {
        done[b] = 1;
        break;
      }
      const nx = st.next(j);
      if (k === this.config.nStep || st.truncated(j) || nx < 0) break;
      j = nx;
    }
    returns[b] = g;
    discount[b] = disc;
    st.copyNextObs(j, boot, b * st.obsDim);
  }

  /**
   * n windows of `len` consecutive steps of one episode each. Starts are drawn by the configured
   * sampler (`sequenceStart: "sampler"`, with the start's IS weight) or uniformly.
   */
  sampleSequences(n: number, len: number, rng: Rng, step: number = this.counters.samples, options: DrawOptions = {}): SequenceBatch {
    if (!Number.isInteger(len) || len < 1) throw new RangeError(`sequence length must be a positive integer, got ${show(len)}`);
    const refreshed = this.prepare(step);
    const out = this.outputArena(this.recycledSequences, options);
    const { idx: starts, info } = this.draw(n, rng, step, this.config.sequenceStart === "sampler", refreshed, out);
    const st = this.store;
    const d = st.obsDim;
    const w = st.actionWidth;
    const m = n * len;
    const indices = out.i32(m).fill(-1);
    const mask = out.u8(m);
    const obs = out.f32(m * d);
    const nextObs = out.f32(m * d);
    const action = this.newActions(m, out);
    const reward = out.f32(m);
    const terminated = out.u8(m);
    const truncated = out.u8(m);
    const stepInEpisode = out.i32(m);
    const episodeId = out.i32(n);
    for (let b = 0; b < n; b++) {
      let j = starts[b]!;
      episodeId[b] = st.episodeOf(j);
      for (let t = 0; t < len; t++) {
        const p = b * len + t;
        indices[p] = j;
        mask[p] = 1;
        for (let k = 0; k < d; k++) obs[p * d + k] = st.obs[j * st.stride + k]!;
        st.copyNextObs(j, nextObs, p * d);
        st.copyAction(j, action, p * w);
        reward[p] = st.rewardOf(j);
        terminated[p] = st.terminated(j) ? 1 : 0;
        truncated[p] = st.truncated(j) ? 1 : 0;
        stepInEpisode[p] = st.stepOf(j);
        const nx = st.next(j);
        if (st.ends(j) || nx < 0) break;
        j = nx;
      }
    }
    return {
      n,
      len,
      starts,
      indices,
      mask,
      weights: info.weights,
      obs,
      action,
      reward,
      nextObs,
      terminated,
      truncated,
      stepInEpisode,
      episodeId,
      sampledAt: st.added,
      info,
    };
  }

  /**
   * Report TD errors (and optionally tdStd, surprise) for sampled indices: O(batch · log N), plus
   * what the estimator does with them. Negative indices (masked sequence steps) are skipped; with
   * `sampledAt` (from the batch), indices the ring has overwritten since are skipped and counted as
   * stale. A repeated index is applied in order.
   */
  updatePriorities(indices: Int32Array, stats: PriorityUpdate, sampledAt?: number): UpdateResult {
    const m = indices.length;
    const check = (name: string, a: ArrayLike<number> | undefined) => {
      if (a !== undefined && a.length !== m) throw new RangeError(`updatePriorities: ${name} has length ${a.length}, expected ${m} (one per index)`);
    };
    check("tdError", stats.tdError);
    check("tdStd", stats.tdStd);
    check("surprise", stats.surprise);
    const est = this.estimator;
    est.check(stats);
    const size = this.size;
    const cap = this.capacity;
    const added = this.store.added;
    const surprise = stats.surprise;
    let updated = 0;
    let stale = 0;
    if (this.touched.length < m) this.touched = new Int32Array(m);
    const touched = this.touched;
    for (let b = 0; b < m; b++) {
      const i = indices[b]!;
      if (i < 0) continue;
      if (i >= size) throw new RangeError(`updatePriorities: index ${i} at position ${b} is outside the buffer (size ${size})`);
      if (sampledAt !== undefined) {
        const inserted = sampledAt - 1 - ((sampledAt - 1 - i) % cap);
        if (inserted + cap < added) {
          stale++;
          continue;
        }
      }
      const td = stats.tdError[b]!;
      if (!Number.isFinite(td)) throw new DivergenceError(`updatePriorities: tdError[${b}] = ${td} for index ${i}; TD errors must be finite`);
      est.reported(i, td, b, stats);
      this.priorities.report(i, td, surprise ? surprise[b]! : undefined);
      touched[updated++] = i;
    }
    est.settle(this.sampler);
    this.sampler.updated(touched, updated);
    return { updated, stale };
  }

  /** Bytes held by the buffer's arrays (columns, statistics, trees, episode table, spare rows). */
  bytes(): number {
    return this.store.bytes() + (this.tree ? this.tree.bytes() : 0) + this.estimator.bytes();
  }

  /** Save everything (data, statistics, the sampler's and estimator's state, config) to `path` atomically. */
  async save(path: string): Promise<void> {
    const n = this.size;
    const st = this.store;
    const pool = st.pool.exportState();
    const { obs, meta, stats } = st.exportColumns(n);
    const sections: Record<string, SnapshotArray> = { obs, meta, stats, poolRows: pool.rows, poolFree: pool.free };
    if (st.actionVec) sections.actionVec = st.actionVec.subarray(0, n * st.actionWidth);
    for (const [k, v] of Object.entries(st.episodes.exportState())) sections[`episodes.${k}`] = v;
    for (const [k, v] of Object.entries(this.sampler.arrays())) sections[`sampler.${k}`] = v;
    for (const [k, v] of Object.entries(this.estimator.arrays())) sections[`estimator.${k}`] = v;
    const state = {
      buffer: { maxPriority: this.priorities.maxPriority, ...this.counters },
      sampler: this.sampler.scalars(),
      estimator: this.estimator.scalars(),
    };
    await writeSnapshot(path, SNAPSHOT_KIND, { schema: SNAPSHOT_SCHEMA, spec: this.spec, config: this.config, added: st.added, state }, sections);
  }

  /**
   * Load a buffer saved by `save` (schema 2, or schema 1 of the single-class buffer); a corrupt,
   * truncated or incompatible file throws FileFormatError.
   */
  static async load(path: string): Promise<ReplayBuffer> {
    const { header, sections } = await readSnapshot(path, SNAPSHOT_KIND);
    const fail = (what: string): never => {
      throw new FileFormatError(`replay snapshot ${path}: ${what}`);
    };
    const schema = header.schema;
    if (schema !== SNAPSHOT_SCHEMA && schema !== 1) fail(`buffer schema ${show(schema)} is not supported (expected 1 or ${SNAPSHOT_SCHEMA})`);
    let buf: ReplayBuffer;
    try {
      buf = new ReplayBuffer(header.spec as ReplaySpec, header.config as ReplayConfigInput);
    } catch (err) {
      return fail(`stored spec/config rejected: ${(err as Error).message}`);
    }
    const added = header.added as number;
    if (!Number.isSafeInteger(added) || added < 0) fail(`bad transition count ${show(added)}`);
    const st = buf.store;
    st.added = added;
    const n = st.size;
    const get = (name: string, length?: number): SnapshotArray => {
      const a = sections.get(name);
      if (!a) return fail(`section ${name} is missing`);
      if (length !== undefined && a.length !== length) fail(`section ${name} has ${a.length} values, expected ${length}`);
      return a;
    };
    const typed = <T extends SnapshotArray>(name: string, type: new (n: number) => T, length?: number): T => {
      const a = get(name, length);
      if (a.constructor !== type) fail(`section ${name} is ${a.constructor.name}, expected ${type.name}`);
      return a as T;
    };
    st.importColumns(n, typed("obs", Float32Array, n * st.obsDim), typed("meta", Int32Array, n * META_WIDTH), typed("stats", Float32Array, n * STAT_WIDTH));
    if (st.actionVec) st.actionVec.set(typed("actionVec", Float32Array, n * st.actionWidth));
    st.pool.importState(get("poolRows") as Float32Array, get("poolFree") as Int32Array);
    const ep: Record<string, ArrayLike<number>> = {};
    for (const k of ["id", "first", "last", "lastStep", "length", "finished", "free"]) ep[k] = get(`episodes.${k}`);
    st.episodes.importState(ep);
    // Schema 1 kept one flat state and unprefixed sections, whose names the parts still use.
    const state = (header.state ?? {}) as Record<string, unknown>;
    const reader = (part: "buffer" | "sampler" | "estimator"): PartReader => {
      const scalars = (schema === 1 ? state : (state[part] ?? {})) as Record<string, unknown>;
      const section = (name: string) => (schema === 1 ? name : `${part}.${name}`);
      return {
        // JSON has no NaN: a NaN field (e.g. a normaliser before any spread is known) was written as null.
        scalar: (name) => {
          const v = scalars[name];
          if (v === null) return NaN;
          return typeof v === "number" ? v : fail(`${part} state field ${name} is ${show(v)}, expected a number`);
        },
        array: (name, type, length) => typed(section(name), type, length),
        has: (name) => sections.has(section(name)),
      };
    };
    const own = reader("buffer");
    buf.priorities.maxPriority = own.scalar("maxPriority");
    for (const k of ["samples", "lastStep", "lastBatchSize", "refreshes"] as const) buf.counters[k] = own.scalar(k);
    const restore = (part: Part, name: "sampler" | "estimator") => part.restore(reader(name));
    restore(buf.sampler, "sampler");
    restore(buf.estimator, "estimator");
    return buf;
  }
}
