/**
 * `replay.schedule: bandit`: chooses ReaPER+'s (α, β) for each period of training with a sliding-window
 * UCB (src/replay/bandit.ts), rewarded by the learning progress of the period:
 * - progress td-loss: a probe of `probeSize` stored transitions is drawn uniformly when a period of
 *   `every` updates starts and the critic's per-sample TD loss measured on it; when the period ends
 *   it is measured again on the probe's transitions that are still stored, and the reward is the
 *   mean drop. The same transitions before and after: the drop is the critic's progress on them,
 *   not a change of which transitions are measured.
 * - progress eval: the change of the evaluation return between consecutive evaluations, a period
 *   lasting from one evaluation to the next.
 * Its state (the bandit's window, the probe's indices and losses, its Rng) is in the checkpoint, so a
 * resumed run chooses exactly as an uninterrupted one.
 */
import { z } from "zod";
import type { Agent, Scalars } from "../agents/types.js";
import { ConfigError } from "../core/errors.js";
import type { Rng } from "../core/rng.js";
import { SlidingWindowUcb } from "../replay/bandit.js";
import type { ReplayBuffer } from "../replay/buffer.js";
import type { ReplayConfig } from "../replay/config.js";
import { ReaperSampler } from "../replay/samplers/reaper.js";

const count = z.number().int().nonnegative();

export const replayBanditStateSchema = z.object({
  bandit: z.object({ arms: z.array(count), rewards: z.array(z.number()), current: count, pulls: count }),
  probe: z.object({ indices: z.array(count), sampledAt: count, losses: z.array(z.number()) }).nullable(),
  lastEval: z.number().nullable(),
  rng: z.object({ s: z.tuple([count, count, count, count]), spareNormal: z.number().nullable() }),
});
export type ReplayBanditState = z.infer<typeof replayBanditStateSchema>;

interface Probe {
  indices: Int32Array;
  /** Transitions ever added when the probe was drawn (to tell which of its slots were overwritten since). */
  sampledAt: number;
  losses: Float32Array;
}

export class ReplayBandit {
  private readonly ucb: SlidingWindowUcb;
  private readonly sampler: ReaperSampler;
  private probe: Probe | null = null;
  private lastEval: number | null = null;

  constructor(
    private readonly config: ReplayConfig,
    private readonly buffer: ReplayBuffer,
    private readonly agent: Agent,
    private readonly rng: Rng,
  ) {
    const { bandit } = config;
    if (!(buffer.sampler instanceof ReaperSampler)) {
      throw new ConfigError(`config key "replay.schedule": got "bandit" with replay.sampler ${JSON.stringify(config.sampler)}; expected replay.sampler "reaper" (the bandit chooses ReaPER+'s α and β)`);
    }
    if (bandit.progress === "td-loss" && !agent.probeLosses) {
      throw new ConfigError(`config key "replay.bandit.progress": got "td-loss", but agent.kind ${JSON.stringify(agent.kind)} has no critic whose TD loss it could measure; expected "eval"`);
    }
    this.sampler = buffer.sampler;
    this.ucb = new SlidingWindowUcb(bandit.arms.map(([alpha, beta]) => ({ alpha, beta })), bandit.window, bandit.exploration);
    this.sampler.setExponents(this.ucb.current);
  }

  /**
   * Before the update that follows `updates` done: at a period boundary (progress td-loss), the ended
   * period's reward and the next arm, and a new probe. Returns what to log, or null.
   */
  beforeUpdate(updates: number): Scalars | null {
    const { every, progress } = this.config.bandit;
    if (progress !== "td-loss" || updates % every !== 0) return null;
    const scalars = this.probe ? this.choose(this.probeDrop(this.probe)) : null;
    this.probe = this.drawProbe();
    return scalars;
  }

  /** After an evaluation (progress eval): the reward of the period since the last one, and the next arm. */
  afterEval(mean: number): Scalars | null {
    if (this.config.bandit.progress !== "eval") return null;
    const scalars = this.lastEval === null ? null : this.choose(mean - this.lastEval);
    this.lastEval = mean;
    return scalars;
  }

  private choose(reward: number): Scalars {
    const played = this.ucb.currentIndex;
    this.ucb.observe(reward);
    this.sampler.setExponents(this.ucb.current);
    return { "replay/bandit_reward": reward, "replay/bandit_played": played, "replay/bandit_arm": this.ucb.currentIndex };
  }

  private drawProbe(): Probe {
    const n = this.config.bandit.probeSize;
    const indices = new Int32Array(n);
    for (let j = 0; j < n; j++) indices[j] = this.rng.integers(0, this.buffer.size);
    return { indices, sampledAt: this.buffer.added, losses: this.agent.probeLosses!(this.buffer.gather(indices)) };
  }

  /** Mean drop of the TD loss over the probe's transitions that no write has replaced since it was drawn. */
  private probeDrop(p: Probe): number {
    const cap = this.buffer.capacity;
    const written = this.buffer.added - p.sampledAt;
    const head = p.sampledAt % cap;
    const kept: number[] = [];
    p.indices.forEach((i, j) => {
      if (written < cap && (i - head + cap) % cap >= written) kept.push(j);
    });
    if (kept.length === 0) return 0;
    const now = this.agent.probeLosses!(this.buffer.gather(Int32Array.from(kept, (j) => p.indices[j]!)));
    let drop = 0;
    kept.forEach((j, k) => (drop += p.losses[j]! - now[k]!));
    return drop / kept.length;
  }

  state(): ReplayBanditState {
    const p = this.probe;
    return {
      bandit: this.ucb.saveState(),
      probe: p && { indices: Array.from(p.indices), sampledAt: p.sampledAt, losses: Array.from(p.losses) },
      lastEval: this.lastEval,
      rng: this.rng.state(),
    };
  }

  load(s: ReplayBanditState): void {
    this.ucb.loadState(s.bandit);
    this.sampler.setExponents(this.ucb.current);
    this.probe = s.probe && { indices: Int32Array.from(s.probe.indices), sampledAt: s.probe.sampledAt, losses: Float32Array.from(s.probe.losses) };
    this.lastEval = s.lastEval;
    this.rng.setState(s.rng);
  }
}
