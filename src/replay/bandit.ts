/**
 * A non-stationary bandit over replay exponents: sliding-window UCB (Garivier & Moulines 2011), the
 * meta-controller Agent57 uses to pick its policies and Schaul et al. (2019, "Adapting behaviour for
 * learning progress") use to adapt behaviour, here choosing ReaPER+'s (α, β) arm for the next period
 * of updates, rewarded by the learning progress of the period that ends.
 *
 * Only the last `window` pulls count, so an arm that was good early is re-tried once the learner has
 * moved on. Rewards are made scale-free by the window's mean absolute reward (a TD-loss drop and an
 * eval-return change have different units and shrink as training converges). Unplayed arms (in the
 * window) go first, in order; ties break to the lowest index: no randomness, so a run is exact to
 * resume. A choice costs O(arms + window): microseconds.
 */
import { ConfigError } from "../core/errors.js";

export interface BanditArm {
  alpha: number;
  beta: number;
}

export interface BanditState {
  /** Arm and raw reward of each pull in the window, oldest first. */
  arms: number[];
  rewards: number[];
  /** The arm playing now (its reward is not in yet). */
  current: number;
  /** Pulls so far (over the whole run). */
  pulls: number;
}

export class SlidingWindowUcb {
  private state: BanditState;

  /**
   * @param arms the (α, β) grid
   * @param window pulls remembered
   * @param exploration UCB's c in mean + c·√(ln(min(t, window)) / n)
   */
  constructor(
    readonly arms: readonly BanditArm[],
    readonly window: number,
    readonly exploration: number,
  ) {
    if (arms.length === 0) throw new ConfigError(`config key "replay.bandit.arms": got an empty list; expected at least one [alpha, beta] pair`);
    this.state = { arms: [], rewards: [], current: 0, pulls: 0 };
  }

  /** The arm playing now. */
  get current(): BanditArm {
    return this.arms[this.state.current]!;
  }

  get currentIndex(): number {
    return this.state.current;
  }

  /** Records the reward of the arm that played and picks the next one. */
  observe(reward: number): number {
    const s = this.state;
    if (!Number.isFinite(reward)) reward = 0;
    s.arms.push(s.current);
    s.rewards.push(reward);
    s.pulls += 1;
    if (s.arms.length > this.window) {
      s.arms.shift();
      s.rewards.shift();
    }
    s.current = this.choose();
    return s.current;
  }

  /** Per arm: pulls in the window and their mean scaled reward. */
  windowStats(): { count: number; mean: number }[] {
    const s = this.state;
    let scale = 0;
    for (const r of s.rewards) scale += Math.abs(r);
    scale = scale > 0 ? scale / s.rewards.length : 1;
    const stats = this.arms.map(() => ({ count: 0, mean: 0 }));
    s.arms.forEach((a, j) => {
      const st = stats[a]!;
      st.count += 1;
      st.mean += (s.rewards[j]! / scale - st.mean) / st.count;
    });
    return stats;
  }

  private choose(): number {
    const stats = this.windowStats();
    const unplayed = stats.findIndex((st) => st.count === 0);
    if (unplayed >= 0) return unplayed;
    const logT = Math.log(Math.min(this.state.pulls, this.window));
    let best = 0;
    let bestScore = -Infinity;
    stats.forEach((st, k) => {
      const score = st.mean + this.exploration * Math.sqrt(logT / st.count);
      if (score > bestScore) [best, bestScore] = [k, score];
    });
    return best;
  }

  saveState(): BanditState {
    return { ...this.state, arms: [...this.state.arms], rewards: [...this.state.rewards] };
  }

  loadState(s: BanditState): void {
    const ok = Array.isArray(s.arms) && Array.isArray(s.rewards) && s.arms.length === s.rewards.length && s.arms.every((a) => Number.isInteger(a) && a >= 0 && a < this.arms.length);
    if (!ok || !Number.isInteger(s.current) || s.current < 0 || s.current >= this.arms.length) {
      throw new ConfigError(`bandit state does not fit ${this.arms.length} arms (was replay.bandit.arms changed?)`);
    }
    this.state = { arms: [...s.arms], rewards: [...s.rewards], current: s.current, pulls: s.pulls };
  }
}
