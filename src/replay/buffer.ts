/**
 * The replay buffer: a columnar ring of transitions (storage.ts), per-transition statistics, and a
 * sampler chosen by config — uniform, proportional PER, or ReaPER+ (annealed reliability-adjusted
 * priorities). See docs/algorithms.md for the formulas; the choices made here are:
 *
 * Priorities. p_i = |δ_i| + eps for a transition whose TD error has been reported, and the running
 * maximum of p over all reports for one that has not ("new items at max priority"). PER leaf:
 * p_i^α. ReaPER+ leaf: p_i^α(t) · (1 − ρ_i)^β(t). Leaves are floored at 1e-30 so every stored
 * transition stays sampleable. IS weight: (N·P(i))^−β_IS / max_j w_j = (leaf_i / min leaf)^−β_IS.
 *
 * Unreliability ρ_i ∈ [0, 1) (reliability 1 − ρ_i is what is logged):
 *  - td-spread (default): u_i = EMA over re-evaluations of (√π/2)·|δ_i^(k) − δ_i^(k−1)|, the mean
 *    successive difference scaled to estimate the TD error's standard deviation (for Gaussian noise
 *    E|X − Y| = 2σ/√π). Known from the second report on. Normalised over the buffer by the mean ū of
 *    the known u: ρ_i = u_i / (u_i + ū) — 1/2 for a transition of average spread, → 0 for a settled
 *    one, never 1, so no transition is starved. Unknown u counts as average (ρ = 1/2).
 *  - ensemble: u_i = EMA of the `tdStd` the agent reports (spread over critic heads), same
 *    normalisation.
 *  - episode (ReaPER, Pleiss et al.): with δ⁺ = |δ| + eps (running max when unreported),
 *    ρ_t = Σ_{i>t} δ⁺_i / D over the episode's stored transitions, D = the episode total when the
 *    episode has ended, else max(own total, largest total of an ended episode); recomputed for the
 *    episodes touched by each update and, lazily before sampling, for episodes that grew or shrank.
 *
 * Refresh cadence (ReaPER+ only, checked at the start of each sample call): every leaf is
 * recomputed and the tree rebuilt (O(N)) when α(t) or β(t) moved more than `refreshTolerance`
 * since the last rebuild; when they differ at all once the horizon has passed (so the end state is
 * exact); when ū drifted so far that a leaf could be off by more than the factor
 * 1 + `refreshNormTolerance` (β·|ln(ū/ū_R)| > ln(1 + tol)); or after `refreshEvery` priority
 * updates. Between rebuilds, inserts and updates use the α, β, ū of the last rebuild, so the tree
 * is always consistent. With the defaults that is about 60 rebuilds over the horizon (α/β) plus
 * the few that ū's drift triggers; `bench replay` reports the cost. A rebuild gives never-reported
 * transitions the running max priority of that moment (PER keeps the max of their insertion
 * time); while β = 0 and α is constant only `refreshEvery` triggers a rebuild, so ReaPER+ at
 * t = 0 with refreshEvery 0 samples exactly like PER with α = α(0).
 *
 * Sampling depends only on the buffer's state, the step and the given Rng (no clock, no hidden
 * generator), so a frozen buffer replays a logged schedule exactly (frozen.ts).
 */
import { ConfigError, DivergenceError, FileFormatError, QttdmError, show } from "../core/errors.js";
import type { Rng } from "../core/rng.js";
import { scheduleValue, type ScheduleSpec } from "../core/schedule.js";
import { BatchArena } from "./arena.js";
import { touch } from "./prefetch.js";
import { replayConfigSchema, type ReplayConfig, type ReplayConfigInput } from "./config.js";
import { readSnapshot, writeSnapshot, type SnapshotArray } from "./snapshot.js";
import { META_WIDTH, STAT_WIDTH, TransitionStore, type ReplaySpec, type TransitionBatch } from "./storage.js";
import { PriorityTree } from "./sum-tree.js";

export type { ReplaySpec, TransitionBatch, ActionSpec } from "./storage.js";
export { ReplayDataError } from "./storage.js";

const SPREAD_SCALE = Math.sqrt(Math.PI) / 2;
/** Offsets in a transition's record of `stats`. */
const TD = 0;
const UNREL = 1;
const SURPRISE = 2;
const SAMPLED = 3;
export const STAT = { tdError: TD, unreliability: UNREL, surprise: SURPRISE, timesSampled: SAMPLED } as const;
const MIN_LEAF = 1e-30;
const SNAPSHOT_KIND = "replay-buffer";
const SNAPSHOT_SCHEMA = 1;

/**
 * x^y for x > 0 (x = 0 gives 0 for y > 0). Math.pow costs about 50 ns in V8, twice exp(y·ln x),
 * and it ran twice per sampled item (leaf and IS weight); the two differ by a few double ulps,
 * far below the float32 the leaves and weights are stored in.
 */
function powPositive(x: number, y: number): number {
  return Math.exp(y * Math.log(x));
}

/** What the agent reports after a learning step, one entry per updated index. */
export interface PriorityUpdate {
  tdError: ArrayLike<number>;
  /** Spread of the TD error across critic heads (required by the `ensemble` estimator). */
  tdStd?: ArrayLike<number>;
  /** Surprise S_i (stored for logging and inspection). */
  surprise?: ArrayLike<number>;
}

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

/** Mutable sampler state, saved in snapshots. */
interface SamplerState {
  /** Running max of |δ| + eps: the priority of transitions never reported. */
  maxPriority: number;
  /** ReaPER+ α and β used by the leaves since the last rebuild. */
  alphaR: number;
  betaR: number;
  /** Normaliser ū of the spread estimators used since the last rebuild (NaN: none known). */
  normR: number;
  /** Σ and count of the known spread statistics u over the buffer. */
  unrelSum: number;
  unrelCount: number;
  /** Largest Σδ⁺ of an ended episode (episode estimator). */
  maxEpisodeTotal: number;
  updatesSinceRefresh: number;
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
  /**
   * Per-transition statistics, kept in the store's records next to the transition's data (one
   * page per sampled transition; see storage.ts): [i * store.stride + k], k = STAT.*: last reported
   * TD error (signed; NaN: never reported); raw unreliability statistic u (spread estimators) or ρ
   * itself (episode), NaN: unknown; last surprise (NaN: none); times sampled (float32 counts
   * exactly up to 2^24).
   */
  readonly stats: Float32Array;
  /** Record stride of `stats` (store.stride). */
  private readonly w: number;
  /** Present for the prioritised samplers. */
  readonly tree: PriorityTree | null;
  private state: SamplerState;
  /** Episode slots whose ρ must be recomputed before the next draw (episode estimator). */
  private readonly dirty = new Set<number>();
  /** Leaves rewritten by an episode recomputation or a priority update, whose tree paths are fixed
   *  in one batch. */
  private touched = new Int32Array(1024);
  private touchedCount = 0;
  private readonly alphaSpec: ScheduleSpec;
  private readonly betaSpec: ScheduleSpec;
  private readonly isBetaSpec: ScheduleSpec;
  /** Where sampled batches are cut from (see arena.ts); recycled draws use one arena per kind. */
  private readonly arena = new BatchArena();
  private readonly recycledSamples = new BatchArena();
  private readonly recycledSequences = new BatchArena();
  /** Stratified draw positions (scratch of `draw`). */
  private scratchU = new Float64Array(0);
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
    const cap = c.capacity;
    this.stats = this.store.stats;
    this.w = this.store.stride;
    this.tree = c.sampler === "uniform" ? null : new PriorityTree(cap);
    this.alphaSpec = { kind: c.reaperShape, start: c.reaperAlphaStart, end: c.reaperAlphaEnd, duration: c.reaperHorizon };
    this.betaSpec = { kind: c.reaperShape, start: c.reaperBetaStart, end: c.reaperBetaEnd, duration: c.reaperHorizon };
    this.isBetaSpec = { kind: "linear", start: c.isBetaStart, end: c.isBetaEnd, duration: c.isBetaSteps };
    this.state = {
      maxPriority: 1,
      alphaR: c.reaperAlphaStart,
      betaR: c.reaperBetaStart,
      normR: NaN,
      unrelSum: 0,
      unrelCount: 0,
      maxEpisodeTotal: 0,
      updatesSinceRefresh: 0,
      samples: 0,
      lastStep: -1,
      lastBatchSize: 0,
      refreshes: 0,
    };
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

  /** A copy of the sampler state (for inspection and logging). */
  samplerState(): Readonly<SamplerState> {
    return { ...this.state };
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
      if (this.store.added >= this.capacity) this.evict(i);
      const slot = this.store.write(batch, j);
      this.stats[i * this.w + TD] = NaN;
      this.stats[i * this.w + SURPRISE] = NaN;
      this.stats[i * this.w + SAMPLED] = 0;
      if (this.config.reliability === "episode") {
        // The newest step of an episode has nothing after it: ρ = 0 until the episode is recomputed.
        this.stats[i * this.w + UNREL] = 0;
        this.dirty.add(slot);
      } else {
        this.stats[i * this.w + UNREL] = NaN;
      }
      this.tree?.set(i, this.leaf(i));
    }
  }

  private evict(i: number): void {
    const u = this.stats[i * this.w + UNREL]!;
    if (this.config.reliability !== "episode" && u === u) {
      this.state.unrelSum -= u;
      this.state.unrelCount--;
    }
    const slot = this.store.evict(i);
    if (slot >= 0 && this.config.reliability === "episode") this.dirty.add(slot);
  }

  /** One statistic of transitions [0, size) as a dense copy (for inspection and tests). */
  statistic(name: keyof typeof STAT): Float32Array {
    const n = this.size;
    const k = STAT[name];
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.stats[i * this.w + k]!;
    return out;
  }

  /** Reliability 1 − ρ_i of a stored transition, as the sampler uses it. */
  reliability(i: number): number {
    const u = this.stats[i * this.w + UNREL]!;
    if (this.config.reliability === "episode") return u === u ? 1 - u : 1;
    const ub = this.state.normR;
    if (u !== u || ub !== ub) return 0.5;
    const den = u + ub;
    return den > 0 ? ub / den : 1;
  }

  /** p_i = |δ_i| + eps, or the running max when never reported. */
  private basePriority(i: number): number {
    const td = this.stats[i * this.w + TD]!;
    return td === td ? Math.abs(td) + this.config.eps : this.state.maxPriority;
  }

  /** The tree leaf of transition i under the exponents in force. */
  private leaf(i: number): number {
    const p = this.basePriority(i);
    let q: number;
    if (this.config.sampler === "per") q = powPositive(p, this.config.alpha);
    else {
      const b = this.state.betaR;
      q = b === 0 ? powPositive(p, this.state.alphaR) : Math.exp(this.state.alphaR * Math.log(p) + b * Math.log(this.reliability(i)));
    }
    return q > MIN_LEAF ? q : MIN_LEAF;
  }

  /** P(i) under the current tree (uniform: 1/size). */
  probability(i: number): number {
    if (i < 0 || i >= this.size) return 0;
    return this.tree ? this.tree.get(i) / this.tree.total() : 1 / this.size;
  }

  private currentNorm(): number {
    return this.state.unrelCount > 0 ? this.state.unrelSum / this.state.unrelCount : NaN;
  }

  /** Bring derived state up to date for `step`: recompute dirty episodes, rebuild if due. */
  private prepare(step: number): boolean {
    const c = this.config;
    if (c.reliability === "episode") this.flushDirty();
    if (c.sampler !== "reaper") {
      // Only logging uses ρ here, so the normaliser can simply follow the buffer.
      if (c.reliability !== "episode") this.state.normR = this.currentNorm();
      return false;
    }
    const s = this.state;
    // Past the horizon use the end values themselves (the schedule's arithmetic may be 1 ulp off).
    const ended = step >= c.reaperHorizon;
    const a = ended ? c.reaperAlphaEnd : scheduleValue(this.alphaSpec, step);
    const b = ended ? c.reaperBetaEnd : scheduleValue(this.betaSpec, step);
    const tol = c.refreshTolerance;
    let due = Math.abs(a - s.alphaR) > tol || Math.abs(b - s.betaR) > tol;
    if (!due && ended && (a !== s.alphaR || b !== s.betaR)) due = true;
    // ū enters the leaves through (ū / (u + ū))^β: a stale ū_R misstates a leaf by at most the
    // factor (ū / ū_R)^±β, so rebuild when that could exceed 1 + refreshNormTolerance.
    const beta = Math.max(b, s.betaR);
    if (!due && c.reliability !== "episode" && beta > 0) {
      const m = this.currentNorm();
      due = s.normR !== s.normR ? m === m : beta * Math.abs(Math.log(m / s.normR)) > Math.log1p(c.refreshNormTolerance);
    }
    if (!due && c.refreshEvery > 0 && s.updatesSinceRefresh >= c.refreshEvery) due = true;
    if (due) this.refresh(a, b);
    return due;
  }

  /**
   * Recompute every priority with ReaPER+ exponents (a, b) (default: those of the last rebuild) and
   * rebuild the tree: O(N). Exact sums of the reliability statistics are recomputed too.
   */
  refresh(a = this.state.alphaR, b = this.state.betaR): void {
    const t0 = performance.now();
    const s = this.state;
    const n = this.size;
    s.alphaR = a;
    s.betaR = b;
    if (this.config.reliability === "episode") {
      this.dirty.clear();
      const ep = this.store.episodes;
      s.maxEpisodeTotal = 0;
      ep.forEach((slot) => {
        const t = this.episodeTotal(slot);
        if (ep.finished[slot] && t > s.maxEpisodeTotal) s.maxEpisodeTotal = t;
      });
      ep.forEach((slot) => this.assignEpisodeRho(slot, false));
    } else {
      let sum = 0;
      let count = 0;
      for (let i = 0; i < n; i++) {
        const u = this.stats[i * this.w + UNREL]!;
        if (u === u) {
          sum += u;
          count++;
        }
      }
      s.unrelSum = sum;
      s.unrelCount = count;
      s.normR = this.currentNorm();
    }
    if (this.tree) {
      const leaves = this.tree.leaves;
      for (let i = 0; i < n; i++) leaves[i] = this.leaf(i);
      this.tree.rebuild();
    }
    s.updatesSinceRefresh = 0;
    s.refreshes++;
    this.refreshMs += performance.now() - t0;
  }

  private flushDirty(): void {
    if (this.dirty.size === 0) return;
    const ep = this.store.episodes;
    const setLeaves = this.config.sampler === "reaper";
    this.touchedCount = 0;
    for (const slot of this.dirty) {
      if (ep.length[slot]! === 0) continue;
      const t = this.episodeTotal(slot);
      if (ep.finished[slot] && t > this.state.maxEpisodeTotal) this.state.maxEpisodeTotal = t;
      this.assignEpisodeRho(slot, setLeaves);
    }
    this.dirty.clear();
    if (setLeaves) {
      const tree = this.tree!;
      // Past about one leaf in eight, fixing paths costs more than rebuilding every internal node.
      if (this.touchedCount > tree.leaves.length / 8) tree.rebuild();
      else tree.fixLeaves(this.touched, this.touchedCount);
    }
  }

  private episodeTotal(slot: number): number {
    const ep = this.store.episodes;
    const st = this.store;
    const last = ep.last[slot]!;
    let total = 0;
    for (let i = ep.first[slot]!; ; i = st.next(i)) {
      total += this.basePriority(i);
      if (i === last) break;
    }
    ep.total[slot] = total;
    return total;
  }

  /** ρ_t = Σ_{i>t} δ⁺_i / D along the episode's chain (episodeTotal must be current). */
  private assignEpisodeRho(slot: number, setLeaves: boolean): void {
    const ep = this.store.episodes;
    const st = this.store;
    const total = ep.total[slot]!;
    const d = ep.finished[slot] ? total : Math.max(total, this.state.maxEpisodeTotal);
    const last = ep.last[slot]!;
    let prefix = 0;
    for (let i = ep.first[slot]!; ; i = st.next(i)) {
      prefix += this.basePriority(i);
      const rho = d > 0 ? (total - prefix) / d : 0;
      this.stats[i * this.w + UNREL] = rho < 0 ? 0 : rho > 1 ? 1 : rho;
      if (setLeaves) {
        this.tree!.leaves[i] = this.leaf(i);
        if (this.touchedCount === this.touched.length) {
          const grown = new Int32Array(this.touched.length * 2);
          grown.set(this.touched);
          this.touched = grown;
        }
        this.touched[this.touchedCount++] = i;
      }
      if (i === last) break;
    }
  }

  /** The number of stored transitions, after checking that n of them can be drawn. */
  private drawableSize(n: number): number {
    if (this.size === 0) throw new QttdmError("cannot sample from an empty replay buffer");
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`sample size must be a positive integer, got ${show(n)}`);
    return this.size;
  }

  /** Draw n indices (prioritised when `prioritised` and the sampler has a tree). */
  private draw(n: number, rng: Rng, step: number, prioritised: boolean, refreshed: boolean, out: BatchArena): { idx: Int32Array; info: SampleInfo } {
    const size = this.drawableSize(n);
    const idx = out.i32(n);
    const weights = out.f32(n);
    const tree = prioritised ? this.tree : null;
    const isBeta = scheduleValue(this.isBetaSpec, step);
    const c = this.config;
    if (tree) {
      const total = tree.total();
      const seg = total / n;
      // Stratified: one draw from each of n equal slices of the total.
      if (this.scratchU.length < n) this.scratchU = new Float64Array(n);
      const u = this.scratchU;
      for (let b = 0; b < n; b++) u[b] = (b + rng.random()) * seg;
      tree.findMany(u, idx, n);
      if (c.isCorrection) {
        const minLeaf = tree.min();
        const leaves = tree.leaves;
        for (let b = 0; b < n; b++) weights[b] = powPositive(leaves[idx[b]!]! / minLeaf, -isBeta);
      } else weights.fill(1);
    } else {
      for (let b = 0; b < n; b++) idx[b] = rng.integers(0, size);
      weights.fill(1);
    }
    // The drawn records, before the loop below and the caller read them.
    const stride = this.store.stride;
    touch(this.store.obs, idx, n, stride, 0, stride);
    const tdAbs = out.f32(n);
    const reliability = out.f32(n);
    const surprise = out.f32(n);
    const stats = this.stats;
    const w = this.w;
    const episodic = c.reliability === "episode";
    const ub = this.state.normR;
    for (let b = 0; b < n; b++) {
      const r = idx[b]! * w;
      tdAbs[b] = Math.abs(stats[r + TD]!);
      surprise[b] = stats[r + SURPRISE]!;
      stats[r + SAMPLED]!++;
      // reliability(i), inlined: this loop runs for every drawn item.
      const u = stats[r + UNREL]!;
      reliability[b] = episodic ? (u === u ? 1 - u : 1) : u !== u || ub !== ub ? 0.5 : u + ub > 0 ? ub / (u + ub) : 1;
    }
    const s = this.state;
    s.samples++;
    s.lastStep = step;
    s.lastBatchSize = n;
    const info: SampleInfo = {
      step,
      alpha: c.sampler === "reaper" ? s.alphaR : c.sampler === "per" ? c.alpha : 0,
      beta: c.sampler === "reaper" ? s.betaR : 0,
      isBeta: tree && c.isCorrection ? isBeta : 0,
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
  sample(n: number, rng: Rng, step: number = this.state.samples, options: DrawOptions = {}): SampledBatch {
    const refreshed = this.prepare(step);
    const out = this.outputArena(this.recycledSamples, options);
    const { idx, info } = this.draw(n, rng, step, true, refreshed, out);
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
  sampleSequences(n: number, len: number, rng: Rng, step: number = this.state.samples, options: DrawOptions = {}): SequenceBatch {
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
   * Report TD errors (and optionally tdStd, surprise) for sampled indices: O(batch · log N), plus the
   * touched episodes' lengths for the `episode` estimator. Negative indices (masked sequence steps)
   * are skipped; with `sampledAt` (from the batch), indices the ring has overwritten since are
   * skipped and counted as stale. A repeated index is applied in order.
   */
  updatePriorities(indices: Int32Array, stats: PriorityUpdate, sampledAt?: number): UpdateResult {
    const m = indices.length;
    const c = this.config;
    const check = (name: string, a: ArrayLike<number> | undefined) => {
      if (a !== undefined && a.length !== m) throw new RangeError(`updatePriorities: ${name} has length ${a.length}, expected ${m} (one per index)`);
    };
    check("tdError", stats.tdError);
    check("tdStd", stats.tdStd);
    check("surprise", stats.surprise);
    const tdStd = stats.tdStd;
    if (c.reliability === "ensemble" && !tdStd) {
      throw new QttdmError('updatePriorities: the "ensemble" reliability estimator needs stats.tdStd (TD-error spread across critic heads)');
    }
    const size = this.size;
    const cap = this.capacity;
    const added = this.store.added;
    const s = this.state;
    const rate = c.spreadRate;
    const episodic = c.reliability === "episode";
    const setLeaf = this.tree !== null && !episodic;
    let updated = 0;
    let stale = 0;
    if (setLeaf && this.touched.length < m) this.touched = new Int32Array(m);
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
      if (c.reliability === "ensemble") {
        const v = tdStd![b]!;
        if (!(v >= 0 && v < Infinity)) throw new DivergenceError(`updatePriorities: tdStd[${b}] = ${v} for index ${i}; expected a finite value >= 0`);
        this.setUnrel(i, v, rate);
      } else if (!episodic) {
        const prev = this.stats[i * this.w + TD]!;
        if (prev === prev) this.setUnrel(i, SPREAD_SCALE * Math.abs(td - prev), rate);
      }
      this.stats[i * this.w + TD] = td;
      if (stats.surprise) this.stats[i * this.w + SURPRISE] = stats.surprise[b]!;
      const p = Math.abs(td) + c.eps;
      if (p > s.maxPriority) s.maxPriority = p;
      if (episodic) this.dirty.add(this.store.episodes.slot(this.store.episodeOf(i)));
      else if (setLeaf) {
        this.tree!.leaves[i] = this.leaf(i);
        touched[updated] = i;
      }
      updated++;
    }
    if (episodic) this.flushDirty();
    else if (setLeaf) this.tree!.fixLeaves(touched, updated);
    s.updatesSinceRefresh++;
    return { updated, stale };
  }

  /** EMA update of the spread statistic u_i, keeping the buffer sum in step. */
  private setUnrel(i: number, x: number, rate: number): void {
    const s = this.state;
    const u = this.stats[i * this.w + UNREL]!;
    if (u === u) {
      const v = u + rate * (x - u);
      this.stats[i * this.w + UNREL] = v;
      s.unrelSum += this.stats[i * this.w + UNREL]! - u;
    } else {
      this.stats[i * this.w + UNREL] = x;
      s.unrelSum += this.stats[i * this.w + UNREL]!;
      s.unrelCount++;
    }
  }

  /** Bytes held by the buffer's arrays (columns, statistics, trees, episode table, spare rows). */
  bytes(): number {
    return (
      this.store.bytes() + (this.tree ? this.tree.bytes() : 0)
    );
  }

  /** Save everything (data, tree leaves, statistics, sampler state, config) to `path` atomically. */
  async save(path: string): Promise<void> {
    const n = this.size;
    const st = this.store;
    const pool = st.pool.exportState();
    const { obs, meta, stats } = st.exportColumns(n);
    const sections: Record<string, SnapshotArray> = {
      obs,
      meta,
      stats,
      poolRows: pool.rows,
      poolFree: pool.free,
      dirty: Int32Array.from(this.dirty),
    };
    if (st.actionVec) sections.actionVec = st.actionVec.subarray(0, n * st.actionWidth);
    if (this.tree) sections.leaves = this.tree.leaves.subarray(0, n);
    for (const [k, v] of Object.entries(st.episodes.exportState())) sections[`episodes.${k}`] = v;
    await writeSnapshot(path, SNAPSHOT_KIND, { schema: SNAPSHOT_SCHEMA, spec: this.spec, config: this.config, added: st.added, state: this.state }, sections);
  }

  /** Load a buffer saved by `save`; a corrupt, truncated or incompatible file throws FileFormatError. */
  static async load(path: string): Promise<ReplayBuffer> {
    const { header, sections } = await readSnapshot(path, SNAPSHOT_KIND);
    const fail = (what: string): never => {
      throw new FileFormatError(`replay snapshot ${path}: ${what}`);
    };
    if (header.schema !== SNAPSHOT_SCHEMA) fail(`buffer schema ${show(header.schema)} is not supported (expected ${SNAPSHOT_SCHEMA})`);
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
    const into = (name: string, target: SnapshotArray, length: number) => {
      const a = get(name, length);
      if (a.constructor !== target.constructor) fail(`section ${name} is ${a.constructor.name}, expected ${target.constructor.name}`);
      target.set(a as never);
    };
    const typed = <T extends SnapshotArray>(name: string, type: new (n: number) => T, length: number): T => {
      const a = get(name, length);
      if (a.constructor !== type) fail(`section ${name} is ${a.constructor.name}, expected ${type.name}`);
      return a as T;
    };
    st.importColumns(n, typed("obs", Float32Array, n * st.obsDim), typed("meta", Int32Array, n * META_WIDTH), typed("stats", Float32Array, n * STAT_WIDTH));
    if (st.actionVec) into("actionVec", st.actionVec, n * st.actionWidth);
    st.pool.importState(get("poolRows") as Float32Array, get("poolFree") as Int32Array);
    const ep: Record<string, ArrayLike<number>> = {};
    for (const k of ["id", "first", "last", "lastStep", "length", "finished", "total", "free"]) ep[k] = get(`episodes.${k}`);
    st.episodes.importState(ep);
    for (const slot of get("dirty")) buf.dirty.add(slot);
    if (buf.tree) {
      into("leaves", buf.tree.leaves.subarray(0, n), n);
      buf.tree.rebuild();
    }
    // JSON has no NaN: a NaN field (e.g. normR before any spread is known) was written as null.
    const saved = (header.state ?? {}) as Record<string, unknown>;
    const state = { ...buf.state } as unknown as Record<string, number>;
    for (const k of Object.keys(state)) {
      const v = saved[k];
      if (v === null) state[k] = NaN;
      else if (typeof v === "number") state[k] = v;
      else fail(`sampler state field ${k} is ${show(v)}, expected a number`);
    }
    buf.state = state as unknown as SamplerState;
    return buf;
  }
}
