/**
 * episode: the rule of ReaPER (Pleiss et al. 2025, arXiv 2506.18482). With δ⁺ = |δ| + eps (the
 * running max priority p_max when unreported), over the episode's stored transitions
 *
 *   ρ_t = Σ_{i>t} δ⁺_i / D,   D = the episode total Σ_i δ⁺_i when the episode has ended, else
 *                                max(own total, M), M the largest total measured of an ended episode
 *
 * (M is a running max, recomputed exactly by `refresh`). A report of one transition moves ρ of
 * every other one in its episode, so recomputing whole episodes per report cost O(episode length)
 * per reported item (about 200 rounds of 128 per second at 1M transitions). Instead:
 *
 * Incremental sums. Each episode keeps its Σ δ⁺ over reported steps and its count of unreported
 * ones, so its total and D in O(1), updated on each report, add and eviction; and copies of its
 * steps' |δ| and ρ̃ in step order (episode-pool.ts) for walks.
 *
 * Lazy leaves, bounded staleness. The record word (and so the sampler's leaf) of every transition
 * holds ρ̃, its exact value at some earlier moment. Each episode carries B_e, a bound on
 * max_t |ρ̃_t − ρ_t| raised by every change: a change Δ of one δ⁺_j moves R_t = 1 − ρ_t of an ended
 * episode by −R_t·Δ/D' for t < j and by (1 − R_t)·Δ/D' for t ≥ j (D' the new denominator), so by
 * at most max(R_j, 1 − R_j)·|Δ|/D'; of a running one, whose D may be capped by M, by at most
 * 2|Δ|/D'; growth of p_max or M by its integrated effect. When B_e exceeds 0.9·tol
 * (tol = `replay.episodeTolerance`) the episode is walked once over its copies, with no leaf work:
 * every ρ_t is computed exactly, the ρ̃ off by more than 0.45·tol are rewritten (and their leaves
 * recomputed by the sampler), and B_e becomes the largest error left. Growth of p_max moves an
 * ended episode's ρ by at most ln(p_max/p₀)/4 (u·A/D² ≤ 1/(4·p_max), A its reported sum, u its
 * unreported count): the ended episodes are swept when that could reach 0.1·tol; running episodes
 * (few) take p_max and M in before each draw. So after every draw and every report, every
 * |ρ̃ − ρ| ≤ tol; tol = 0 recomputes every changed ρ before each draw. test/replay/episode.test.ts
 * checks both against the rule computed from scratch.
 */
import { touch, touchRange } from "../prefetch.js";
import type { PartReader, TransitionStats } from "../stats.js";
import type { TransitionStore } from "../storage.js";
import { deltaOf, EpisodePool, MIN_CAP, NEW } from "./episode-pool.js";
import type { EstimatorParts, ReliabilityEstimator, ReliabilityListener } from "./types.js";

/** Share of the tolerance kept for the unswept growth of p_max in ended episodes. */
const SWEEP_SHARE = 0.1;
/**
 * Per-slot scalars, one 64-byte record (a cache line) per episode slot: what a report needs besides
 * the episode's region, so that it costs one line. Float64 fields at [slot * SLOT_W + F] of
 * `slots`, int32 fields at [slot * 2 * SLOT_W + I] of `ints`, a view of the same memory (offsets
 * used as array indices must be integers: from float64 fields every index would be converted).
 */
const BOUND = 0; // B_e: bound on max_t |ρ̃_t − ρ_t| (Infinity: must be walked)
const MAXP_AT = 1; // p_max when B_e last took its growth in
const M_AT = 2; // M when B_e last took its growth in (running episodes)
const SUM = 3; // Σ δ⁺ of its reported steps (running)
const UNREPORTED = 4; // its unreported steps
const AT = 10; // int32: the episode's region in the pool
const CAP = 11; // int32: its positions (0: none)
const BASE = 12; // int32: the step at position 0
const FIRST = 13; // int32: its first stored step (the record's, kept here so that a walk need not read it)
const SLOT_W = 8;

function grown<T extends Float64Array | Float32Array | Int32Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/** The smallest power of two ≥ MIN_CAP that holds n positions. */
function capacityFor(n: number): number {
  let c = MIN_CAP;
  while (c < n) c *= 2;
  return c;
}

export class EpisodeEstimator implements ReliabilityEstimator {
  private readonly store: TransitionStore;
  private readonly stats: TransitionStats;
  private readonly eps: number;
  private readonly tol: number;
  /** Walk an episode when its bound exceeds this; rewrite the ρ̃ off by more than half of it. */
  private readonly walkAbove: number;
  private slots = new Float64Array(64 * SLOT_W);
  private ints = new Int32Array(this.slots.buffer);
  private readonly pool: EpisodePool;
  /** Slots to check before the next draw (in order), and their flags. */
  private pending = new Int32Array(64);
  private pendingCount = 0;
  private isPending = new Uint8Array(64);
  /** Slots of running (not ended) episodes. */
  private readonly open = new Set<number>();
  /** M. */
  private maxEpisodeTotal = 0;
  /** p_max at the last sweep of the ended episodes; p_max and M when the running ones last took them in. */
  private sweptMaxP: number;
  private openMaxP: number;
  private openM = 0;
  /**
   * Reports since the last settle, applied there in order: the transition, its episode slot, its
   * previous |δ| (NEW: it was unreported) and its new one (float32). Applying them in a batch lets the
   * cache misses of different episodes overlap (prefetch.ts), which was most of their cost.
   */
  private reportedIdx = new Int32Array(256);
  private reportedSlot = new Int32Array(256);
  private reportedPrev = new Float32Array(256);
  private reportedNew = new Float32Array(256);
  /** ρ̃ of the reported transition before the report. */
  private reportedRho = new Float32Array(256);
  private reportedCount = 0;
  /** Pool offsets to warm (scratch of `warm`). */
  private lines = new Int32Array(256);
  /** Transitions whose ρ̃ a walk rewrote (for the listener). */
  private touched = new Int32Array(1024);
  private touchedCount = 0;
  /** Episodes walked and ρ̃ rewritten by the lazy scheme (not counting refreshes). */
  private walks = 0;
  private rewrites = 0;

  constructor(p: EstimatorParts) {
    this.store = p.store;
    this.stats = p.stats;
    this.eps = p.stats.eps;
    this.pool = new EpisodePool(p.config.capacity);
    this.tol = p.config.episodeTolerance;
    this.walkAbove = (1 - SWEEP_SHARE) * this.tol;
    this.sweptMaxP = this.openMaxP = p.stats.maxPriority;
  }

  check(): void {}

  added(i: number, slot: number): void {
    const ep = this.store.episodes;
    this.ensureSlots(slot);
    this.stats.setUnreliability(i, 0); // nothing after the newest step: exact
    const r = slot * SLOT_W;
    const sl = this.slots;
    if (ep.length[slot] === 1) this.openSlot(slot, i);
    else {
      this.sync(slot);
      const step = this.store.stepOf(i);
      sl[r + UNREPORTED]!++;
      if (step - this.ints[2 * r + BASE]! >= this.ints[2 * r + CAP]!) this.refit(slot);
      this.place(slot, step - this.ints[2 * r + BASE]!, i);
      // Every earlier S_t and the total grow by p_max.
      sl[r + BOUND]! += (2 * this.stats.maxPriority) / this.denominator(slot);
    }
    if (ep.finished[slot]) {
      // D switches from max(total, M) to the total: walk it.
      this.open.delete(slot);
      sl[r + BOUND] = Infinity;
    }
    this.markIfDue(slot);
  }

  evicting(i: number, slot: number): void {
    const r = slot * SLOT_W;
    const sl = this.slots;
    if (this.store.episodes.length[slot] === 1) {
      this.open.delete(slot);
      this.pool.release(this.ints[2 * r + AT]!, this.ints[2 * r + CAP]!);
      this.ints[2 * r + CAP] = 0;
      return;
    }
    this.sync(slot);
    this.ints[2 * r + FIRST] = this.store.stepOf(i) + 1;
    const td = this.stats.td(i);
    const p = this.stats.priority(i);
    if (td === td) sl[r + SUM]! -= p;
    else sl[r + UNREPORTED]!--;
    sl[r + BOUND]! += ((this.store.episodes.finished[slot] ? 1 : 2) * p) / this.denominator(slot);
    this.markIfDue(slot);
  }

  reported(i: number, td: number): void {
    if (this.reportedCount === this.reportedIdx.length) {
      const n = this.reportedCount * 2;
      this.reportedIdx = grown(this.reportedIdx, n);
      this.reportedSlot = grown(this.reportedSlot, n);
      this.reportedPrev = grown(this.reportedPrev, n);
      this.reportedNew = grown(this.reportedNew, n);
      this.reportedRho = grown(this.reportedRho, n);
    }
    const b = this.reportedCount++;
    this.reportedIdx[b] = i;
    this.reportedPrev[b] = deltaOf(this.stats.td(i));
    this.reportedNew[b] = Math.abs(td);
    this.reportedRho[b] = this.stats.unreliability(i);
  }

  settle(listener: ReliabilityListener): void {
    const n = this.reportedCount;
    const st = this.store;
    const idx = this.reportedIdx;
    const slots = this.reportedSlot;
    for (let b = 0; b < n; b++) slots[b] = st.episodes.slot(st.episodeOf(idx[b]!));
    this.warm(n);
    for (let b = 0; b < n; b++) this.apply(slots[b]!, idx[b]!, this.reportedPrev[b]!, this.reportedNew[b]!, this.reportedRho[b]!);
    this.reportedCount = 0;
    this.catchUp(listener);
  }

  /** Load what applying the reports will touch: their slot records, then their steps' |δ| in the pool. */
  private warm(n: number): void {
    touch(this.slots, this.reportedSlot, n, SLOT_W, 0, SLOT_W);
    if (this.lines.length < n) this.lines = new Int32Array(2 * n);
    const st = this.store;
    for (let b = 0; b < n; b++) {
      const r = this.reportedSlot[b]! * SLOT_W;
      this.lines[b] = this.ints[2 * r + AT]! + st.stepOf(this.reportedIdx[b]!) - this.ints[2 * r + BASE]!;
    }
    touch(this.pool.f32, this.lines, n, 1, 0, 1);
  }

  /** One report to transition i of episode `slot`: |δ| from `prev` (NEW: unreported) to `mag`; ρ̃ was `rho`. */
  private apply(slot: number, i: number, prev: number, mag: number, rho: number): void {
    this.sync(slot);
    const r = slot * SLOT_W;
    const sl = this.slots;
    const reported = prev !== NEW;
    const pOld = reported ? prev + this.eps : this.stats.maxPriority;
    const pNew = mag + this.eps;
    if (reported) sl[r + SUM]! += pNew - pOld;
    else {
      sl[r + SUM]! += pNew;
      sl[r + UNREPORTED]!--;
    }
    this.pool.f32[this.ints[2 * r + AT]! + this.store.stepOf(i) - this.ints[2 * r + BASE]!] = mag;
    const finished = this.store.episodes.finished[slot]!;
    const d = this.denominator(slot);
    // A change Δ of δ⁺_j moves R_t = 1 − ρ_t of an ended episode by −R_t·Δ/D' for t < j and by
    // (1 − R_t)·Δ/D' for t ≥ j: by at most max(R_j, 1 − R_j)·|Δ|/D', R_j within B_e of 1 − ρ̃_j.
    const reach = finished ? Math.min(1, Math.max(rho, 1 - rho) + sl[r + BOUND]!) : 2;
    sl[r + BOUND]! += (reach * Math.abs(pNew - pOld)) / d;
    if (finished && d > this.maxEpisodeTotal) this.maxEpisodeTotal = d;
    this.markIfDue(slot);
  }

  prepare(listener: ReliabilityListener): void {
    this.catchUp(listener);
  }

  reliability(i: number): number {
    const u = this.stats.unreliability(i);
    return u === u ? 1 - u : 1;
  }

  reliabilities(idx: Int32Array, n: number, out: Float32Array): void {
    for (let b = 0; b < n; b++) out[b] = this.reliability(idx[b]!);
  }

  drift(): number {
    return 0;
  }

  /** Every ρ exact; M recomputed from the ended episodes. */
  refresh(): void {
    const ep = this.store.episodes;
    this.maxEpisodeTotal = 0;
    ep.forEach((slot) => {
      this.ensureSlots(slot);
      if (this.misfit(slot)) this.refit(slot);
      if (ep.finished[slot]) this.maxEpisodeTotal = Math.max(this.maxEpisodeTotal, this.denominator(slot));
    });
    ep.forEach((slot) => this.walk(slot, -1, false));
    this.pendingCount = 0;
    this.isPending.fill(0);
    this.sweptMaxP = this.openMaxP = this.stats.maxPriority;
    this.openM = this.maxEpisodeTotal;
  }

  private denominator(slot: number): number {
    const r = slot * SLOT_W;
    return this.denominatorOf(slot, this.slots[r + SUM]! + this.slots[r + UNREPORTED]! * this.stats.maxPriority);
  }

  private denominatorOf(slot: number, total: number): number {
    return this.store.episodes.finished[slot] ? total : Math.max(total, this.maxEpisodeTotal);
  }

  /** Take the growth of p_max (and of M, for a running episode) since the last sync into B_e. */
  private sync(slot: number): void {
    const r = slot * SLOT_W;
    const sl = this.slots;
    const c1 = this.stats.maxPriority;
    const c0 = sl[r + MAXP_AT]!;
    const finished = this.store.episodes.finished[slot]!;
    const m0 = sl[r + M_AT]!;
    const m1 = this.maxEpisodeTotal;
    if (c1 === c0 && (finished || m1 === m0)) return;
    const u = sl[r + UNREPORTED]!;
    const a = sl[r + SUM]!;
    if (c1 !== c0) {
      if (u > 0) {
        // dρ_t/dp_max is at most u·A/D² for an ended episode, u/D for a running one; D only grows with p_max.
        const t0 = a + u * c0;
        sl[r + BOUND]! += finished ? ((c1 - c0) * u * a) / (t0 * t0) : ((c1 - c0) * u) / Math.max(t0, m0);
      }
      sl[r + MAXP_AT] = c1;
    }
    if (!finished && m1 !== m0) {
      // D = max(total, M) moves by at most M − M₀, with every S_t fixed.
      sl[r + BOUND]! += (m1 - m0) / Math.max(a + u * c1, m1);
      sl[r + M_AT] = m1;
    }
  }

  /**
   * Before a draw or after reports: bring running episodes up to p_max and M, sweep the ended ones
   * when p_max has grown enough, and walk every pending episode whose bound is too large.
   */
  private catchUp(listener: ReliabilityListener): void {
    const list = listener.usesReliability;
    this.touchedCount = 0;
    const ep = this.store.episodes;
    const p = this.stats.maxPriority;
    if (Math.log(p / this.sweptMaxP) / 4 > SWEEP_SHARE * this.tol) {
      ep.forEach((slot) => {
        if (ep.finished[slot]) this.markPending(slot);
      });
      this.sweptMaxP = p;
    }
    // Walking an ended episode may raise M, which moves the running episodes: go round until it stays.
    for (;;) {
      if (p !== this.openMaxP || this.maxEpisodeTotal !== this.openM) {
        for (const slot of this.open) this.markPending(slot);
        this.openMaxP = p;
        this.openM = this.maxEpisodeTotal;
      }
      if (this.pendingCount === 0) break;
      const count = this.pendingCount;
      this.pendingCount = 0;
      // The episodes to walk, in order, in the front of `pending`.
      let due = 0;
      for (let k = 0; k < count; k++) {
        const slot = this.pending[k]!;
        this.isPending[slot] = 0;
        if (ep.length[slot] === 0) continue;
        this.sync(slot);
        if (this.slots[slot * SLOT_W + BOUND]! > this.walkAbove) this.pending[due++] = slot;
      }
      // Their regions are cold: load them all first, so that the misses of different episodes overlap.
      for (let k = 0; k < due; k++) this.warmRegion(this.pending[k]!);
      for (let k = 0; k < due; k++) this.rewrites += this.walk(this.pending[k]!, this.walkAbove / 2, list);
      this.walks += due;
    }
    if (list && this.touchedCount > 0) listener.reliabilityChanged(this.touched, this.touchedCount);
  }

  /**
   * Queue the episode for a walk when its bound (with the growth it has taken in) passed the
   * threshold. One below it needs no check before the next draw: growth of p_max and M after its
   * sync is what the sweeps and the running episodes' catch-up cover.
   */
  private markIfDue(slot: number): void {
    if (this.slots[slot * SLOT_W + BOUND]! > this.walkAbove) this.markPending(slot);
  }

  private markPending(slot: number): void {
    if (this.isPending[slot]) return;
    this.isPending[slot] = 1;
    if (this.pendingCount === this.pending.length) this.pending = grown(this.pending, this.pendingCount * 2);
    this.pending[this.pendingCount++] = slot;
  }

  private ensureSlots(slot: number): void {
    if (slot < this.isPending.length) return;
    const n = Math.max(2 * this.isPending.length, slot + 1);
    this.slots = grown(this.slots, n * SLOT_W);
    this.ints = new Int32Array(this.slots.buffer);
    this.isPending = grown(this.isPending, n);
  }

  /** A new episode whose one stored transition is i (unreported). */
  private openSlot(slot: number, i: number): void {
    const r = slot * SLOT_W;
    const sl = this.slots;
    sl[r + BOUND] = 0;
    sl[r + MAXP_AT] = this.stats.maxPriority;
    sl[r + M_AT] = this.maxEpisodeTotal;
    sl[r + SUM] = 0;
    sl[r + UNREPORTED] = 1;
    this.region(slot, this.store.stepOf(i), MIN_CAP);
    this.place(slot, 0, i);
    this.open.add(slot);
  }

  /** Copy a new (unreported, ρ = 0) step i at position k into the episode's region. */
  private place(slot: number, k: number, i: number): void {
    const r = slot * SLOT_W;
    const at = this.ints[2 * r + AT]!;
    const cap = this.ints[2 * r + CAP]!;
    this.pool.f32[at + k] = NEW;
    this.pool.f32[EpisodePool.rho(at, cap) + k] = 0;
    this.pool.i32[EpisodePool.idx(at, cap) + k] = i;
  }

  /** Give the episode a fresh region of `cap` positions starting at step `base` (releasing its old one). */
  private region(slot: number, base: number, cap: number): void {
    const r = slot * SLOT_W;
    const sl = this.slots;
    if (this.ints[2 * r + CAP]! > 0) this.pool.release(this.ints[2 * r + AT]!, this.ints[2 * r + CAP]!);
    this.ints[2 * r + AT] = this.pool.alloc(cap);
    this.ints[2 * r + CAP] = cap;
    this.ints[2 * r + BASE] = base;
    this.ints[2 * r + FIRST] = base;
  }

  /** Load the |δ| and ρ̃ a walk of the episode reads. */
  private warmRegion(slot: number): void {
    const q = 2 * slot * SLOT_W;
    const at = this.ints[q + AT]!;
    const cap = this.ints[q + CAP]!;
    const from = at + this.ints[q + FIRST]! - this.ints[q + BASE]!;
    const to = Math.min(at + cap - 1, at + this.store.episodes.lastStep[slot]! - this.ints[q + BASE]!);
    touchRange(this.pool.f32, from, to);
    touchRange(this.pool.f32, from + cap, to + cap);
  }

  /** Whether the episode's region no longer fits it: it outgrew it, or left more than half of it behind (evictions). */
  private misfit(slot: number): boolean {
    const ep = this.store.episodes;
    const r = slot * SLOT_W;
    const cap = this.ints[2 * r + CAP]!;
    const base = this.ints[2 * r + BASE]!;
    return ep.lastStep[slot]! - base + 1 > cap || 2 * (this.ints[2 * r + FIRST]! - base) > cap;
  }

  /**
   * Move the episode's copies to a region that fits it, at its first stored step: the next power of
   * two above its length (counting a step being appended), so that a growing episode moves
   * O(log L) times.
   */
  private refit(slot: number): void {
    const q = 2 * slot * SLOT_W;
    const oldAt = this.ints[q + AT]!;
    const oldCap = this.ints[q + CAP]!;
    const oldBase = this.ints[q + BASE]!;
    const first = this.ints[q + FIRST]!;
    const last = Math.min(this.store.episodes.lastStep[slot]!, oldBase + oldCap - 1);
    const cap = capacityFor(this.store.episodes.lastStep[slot]! - first + 2);
    const at = this.pool.alloc(cap);
    const f = this.pool.f32;
    const from = oldAt + first - oldBase;
    const n = last - first + 1;
    f.copyWithin(at, from, from + n);
    f.copyWithin(EpisodePool.rho(at, cap), EpisodePool.rho(oldAt, oldCap) + first - oldBase, EpisodePool.rho(oldAt, oldCap) + first - oldBase + n);
    f.copyWithin(EpisodePool.idx(at, cap), EpisodePool.idx(oldAt, oldCap) + first - oldBase, EpisodePool.idx(oldAt, oldCap) + first - oldBase + n);
    this.pool.release(oldAt, oldCap);
    this.ints[q + AT] = at;
    this.ints[q + CAP] = cap;
    this.ints[q + BASE] = first;
  }

  /**
   * A new region for the episode, filled from its records (following its links) at its first stored
   * step (for a snapshot that has no copies).
   */
  private measure(slot: number): void {
    const ep = this.store.episodes;
    const firstStep = this.store.stepOf(ep.first[slot]!);
    this.region(slot, firstStep, capacityFor(ep.lastStep[slot]! - firstStep + 2));
    this.fill(slot);
  }

  /** Write the episode's |δ|, ρ̃ and ring indices into its region from the records, and its sums. */
  private fill(slot: number): void {
    const ep = this.store.episodes;
    const st = this.store;
    const r = slot * SLOT_W;
    const sl = this.slots;
    const at = this.ints[2 * r + AT]!;
    const cap = this.ints[2 * r + CAP]!;
    const base = this.ints[2 * r + BASE]!;
    const f = this.pool.f32;
    const ix = this.pool.i32;
    const rho = EpisodePool.rho(at, cap);
    const idx = EpisodePool.idx(at, cap);
    let a = 0;
    let u = 0;
    for (let i = ep.first[slot]!; ; i = st.next(i)) {
      const k = st.stepOf(i) - base;
      const td = this.stats.td(i);
      f[at + k] = deltaOf(td);
      f[rho + k] = this.stats.unreliability(i);
      ix[idx + k] = i;
      if (td === td) a += this.stats.priority(i);
      else u++;
      if (i === ep.last[slot]) break;
    }
    sl[r + SUM] = a;
    sl[r + UNREPORTED] = u;
    this.ints[2 * r + FIRST] = st.stepOf(ep.first[slot]!);
  }

  /**
   * Walk the episode computing every exact ρ_t = Σ_{i>t} δ⁺_i / D (raising M with an ended
   * episode's total); rewrite the ρ̃ off by more than `above` (all when negative), listing them
   * when `list`, and keep the largest error left as the episode's bound. Returns how many it rewrote. One pass, with the running
   * total: the sums it recomputes along the way replace the running ones (whose rounding they differ
   * from by some 1e-16 of the total).
   */
  private walk(slot: number, above: number, list: boolean): number {
    if (this.misfit(slot)) this.refit(slot);
    const ep = this.store.episodes;
    const r = slot * SLOT_W;
    const sl = this.slots;
    const f = this.pool.f32;
    const ix = this.pool.i32;
    const at = this.ints[2 * r + AT]!;
    const cap = this.ints[2 * r + CAP]!;
    const base = this.ints[2 * r + BASE]!;
    const rhos = EpisodePool.rho(at, cap) - at;
    const idx = EpisodePool.idx(at, cap) - at;
    const p = this.stats.maxPriority;
    const eps = this.eps;
    const total = sl[r + SUM]! + sl[r + UNREPORTED]! * p;
    if (ep.finished[slot] && total > this.maxEpisodeTotal) this.maxEpisodeTotal = total;
    const den = this.denominatorOf(slot, total);
    const inv = den > 0 ? 1 / den : 0;
    const from = at + this.ints[2 * r + FIRST]! - base;
    const to = at + ep.lastStep[slot]! - base;
    let prefix = 0;
    let reported = 0;
    let unreported = 0;
    let left = 0;
    let rewritten = 0;
    for (let k = from; k <= to; k++) {
      const x = f[k]!;
      if (x >= 0) {
        prefix += x + eps;
        reported += x + eps;
      } else {
        prefix += p;
        unreported++;
      }
      const y = (total - prefix) * inv;
      const rho = y < 0 ? 0 : y > 1 ? 1 : y;
      const err = Math.abs(rho - f[k + rhos]!);
      if (err > above) {
        const i = ix[k + idx]!;
        this.stats.setUnreliability(i, rho);
        f[k + rhos] = rho;
        rewritten++;
        if (list) {
          if (this.touchedCount === this.touched.length) this.touched = grown(this.touched, this.touchedCount * 2);
          this.touched[this.touchedCount++] = i;
        }
      } else if (err > left) left = err;
    }
    sl[r + SUM] = reported;
    sl[r + UNREPORTED] = unreported;
    sl[r + BOUND] = left;
    sl[r + MAXP_AT] = p;
    sl[r + M_AT] = this.maxEpisodeTotal;
    return rewritten;
  }

  bytes(): number {
    return this.slots.byteLength + this.isPending.byteLength + this.pending.byteLength + this.pool.bytes();
  }

  scalars(): Record<string, number> {
    return {
      maxEpisodeTotal: this.maxEpisodeTotal,
      sweptMaxP: this.sweptMaxP,
      openMaxP: this.openMaxP,
      openM: this.openM,
      walks: this.walks,
      rewrites: this.rewrites,
    };
  }

  /**
   * The per-slot records (their region offsets are rebuilt on load: the regions' contents follow
   * from the records and the episodes' links), the pending and running episodes.
   */
  arrays(): Record<string, Float64Array | Int32Array> {
    const h = this.store.episodes.highWater;
    return {
      slots: this.slots.slice(0, h * SLOT_W),
      pending: this.pending.slice(0, this.pendingCount),
      open: Int32Array.from(this.open),
    };
  }

  restore(r: PartReader): void {
    const ep = this.store.episodes;
    const h = ep.highWater;
    this.maxEpisodeTotal = r.scalar("maxEpisodeTotal");
    this.ensureSlots(Math.max(0, h - 1));
    this.open.clear();
    this.pendingCount = 0;
    this.isPending.fill(0);
    if (!r.has("slots")) {
      // A snapshot of the buffer before this estimator was incremental: build its regions from the
      // records, and have every episode walked before the next draw (the stored ρ̃ stay until then).
      const p = this.stats.maxPriority;
      ep.forEach((slot) => {
        this.measure(slot);
        const at = slot * SLOT_W;
        this.slots[at + BOUND] = Infinity;
        this.slots[at + MAXP_AT] = p;
        this.slots[at + M_AT] = this.maxEpisodeTotal;
        if (!ep.finished[slot]) this.open.add(slot);
        this.markPending(slot);
      });
      this.sweptMaxP = this.openMaxP = p;
      this.openM = this.maxEpisodeTotal;
      return;
    }
    this.sweptMaxP = r.scalar("sweptMaxP");
    this.openMaxP = r.scalar("openMaxP");
    this.openM = r.scalar("openM");
    this.walks = r.scalar("walks");
    this.rewrites = r.scalar("rewrites");
    const saved = r.array("slots", Float64Array, h * SLOT_W);
    const savedInts = new Int32Array(saved.buffer, saved.byteOffset, 2 * saved.length);
    ep.forEach((slot) => {
      const at = slot * SLOT_W;
      for (const k of [BOUND, MAXP_AT, M_AT, SUM, UNREPORTED]) this.slots[at + k] = saved[at + k]!;
      this.ints[2 * at + CAP] = 0;
      this.region(slot, savedInts[2 * at + BASE]!, savedInts[2 * at + CAP]!);
      const sum = saved[at + SUM]!;
      this.fill(slot);
      // The running sum as it was (fill recomputes it in another order).
      this.slots[at + SUM] = sum;
    });
    for (const slot of r.array("pending", Int32Array)) this.markPending(slot);
    for (const slot of r.array("open", Int32Array)) this.open.add(slot);
  }
}
