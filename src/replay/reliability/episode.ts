/**
 * episode (ReaPER, Pleiss et al.): with δ⁺ = |δ| + eps (the running max when unreported),
 * ρ_t = Σ_{i>t} δ⁺_i / D over the episode's stored transitions, D = the episode total when the
 * episode has ended, else max(own total, largest total of an ended episode). The record word holds
 * ρ itself. Recomputed for the episodes touched by each update and, lazily before sampling, for
 * episodes that grew or shrank.
 */
import type { PartReader, TransitionStats } from "../stats.js";
import type { TransitionStore } from "../storage.js";
import type { EstimatorParts, ReliabilityEstimator, ReliabilityListener } from "./types.js";

export class EpisodeEstimator implements ReliabilityEstimator {
  private readonly store: TransitionStore;
  private readonly stats: TransitionStats;
  /** Episode slots whose ρ must be recomputed before the next draw. */
  private readonly dirty = new Set<number>();
  /** Largest Σδ⁺ of an ended episode. */
  private maxEpisodeTotal = 0;
  /** Transitions whose ρ the last recomputation rewrote (for the listener). */
  private touched = new Int32Array(1024);
  private touchedCount = 0;

  constructor(p: EstimatorParts) {
    this.store = p.store;
    this.stats = p.stats;
  }

  check(): void {}

  added(i: number, slot: number): void {
    // The newest step of an episode has nothing after it: ρ = 0 until the episode is recomputed.
    this.stats.setUnreliability(i, 0);
    this.dirty.add(slot);
  }

  evicted(_i: number, slot: number): void {
    if (slot >= 0) this.dirty.add(slot);
  }

  reported(i: number): void {
    this.dirty.add(this.store.episodes.slot(this.store.episodeOf(i)));
  }

  settle(listener: ReliabilityListener): void {
    this.flush(listener);
  }

  prepare(listener: ReliabilityListener): void {
    this.flush(listener);
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

  refresh(): void {
    this.dirty.clear();
    const ep = this.store.episodes;
    this.maxEpisodeTotal = 0;
    ep.forEach((slot) => {
      const t = this.episodeTotal(slot);
      if (ep.finished[slot] && t > this.maxEpisodeTotal) this.maxEpisodeTotal = t;
    });
    ep.forEach((slot) => this.assignRho(slot, false));
  }

  private flush(listener: ReliabilityListener): void {
    if (this.dirty.size === 0) return;
    const ep = this.store.episodes;
    const list = listener.usesReliability;
    this.touchedCount = 0;
    for (const slot of this.dirty) {
      if (ep.length[slot]! === 0) continue;
      const t = this.episodeTotal(slot);
      if (ep.finished[slot] && t > this.maxEpisodeTotal) this.maxEpisodeTotal = t;
      this.assignRho(slot, list);
    }
    this.dirty.clear();
    if (list) listener.reliabilityChanged(this.touched, this.touchedCount);
  }

  private episodeTotal(slot: number): number {
    const ep = this.store.episodes;
    const st = this.store;
    const last = ep.last[slot]!;
    let total = 0;
    for (let i = ep.first[slot]!; ; i = st.next(i)) {
      total += this.stats.priority(i);
      if (i === last) break;
    }
    ep.total[slot] = total;
    return total;
  }

  /** ρ_t = Σ_{i>t} δ⁺_i / D along the episode's chain (episodeTotal must be current). */
  private assignRho(slot: number, list: boolean): void {
    const ep = this.store.episodes;
    const st = this.store;
    const total = ep.total[slot]!;
    const d = ep.finished[slot] ? total : Math.max(total, this.maxEpisodeTotal);
    const last = ep.last[slot]!;
    let prefix = 0;
    for (let i = ep.first[slot]!; ; i = st.next(i)) {
      prefix += this.stats.priority(i);
      const rho = d > 0 ? (total - prefix) / d : 0;
      this.stats.setUnreliability(i, rho < 0 ? 0 : rho > 1 ? 1 : rho);
      if (list) {
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

  scalars(): Record<string, number> {
    return { maxEpisodeTotal: this.maxEpisodeTotal };
  }

  arrays(): Record<string, Int32Array> {
    return { dirty: Int32Array.from(this.dirty) };
  }

  restore(r: PartReader): void {
    this.maxEpisodeTotal = r.scalar("maxEpisodeTotal");
    this.dirty.clear();
    for (const slot of r.array("dirty", Int32Array)) this.dirty.add(slot);
  }
}
