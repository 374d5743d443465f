/**
 * Greedy evaluation on fixed seeds: episode i is reset with `seed + i`, so every evaluation of a run
 * (and of different runs) sees the same starting states.
 */
import { selectBackend } from "../backend/index.js";
import { Rng } from "../core/rng.js";
import type { Agent, GreedyMode } from "../agents/types.js";
import type { Config } from "../config/schema.js";
import { makeEnv } from "../envs/index.js";
import type { Env } from "../envs/types.js";
import { createAgent } from "./agents.js";
import { loadCheckpoint } from "./checkpoint.js";
import { parseEnvSteps } from "./trainer-state.js";
import { readRunConfig, type HeldOutResult } from "./run-dir.js";
import { aggregate } from "../report/stats.js";
import { InfoRecorder, sceneRecorder, type EpisodeStatistics, type Trajectory } from "../report/trajectory.js";

export type { EpisodeStatistics, Trajectory } from "../report/trajectory.js";

export type GreedyPolicy = (obs: Float32Array) => number | Float32Array;

/** The agent's greedy action for one observation: a discrete action is the one integer, a continuous one the whole vector. */
export function greedyPolicy(agent: Agent, step: () => number, rng: Rng, mode: GreedyMode = "greedy"): GreedyPolicy {
  return (o) => {
    const a = agent.act(o, 1, mode, step(), rng);
    return a instanceof Int32Array ? a[0]! : a;
  };
}

export interface EvalResult {
  seeds: number[];
  returns: number[];
  lengths: number[];
  mean: number;
  std: number;
  /**
   * Per episode, when recording: observations (the reset's, then one per step), actions and rewards of every
   * step, the numeric entries of every step's info, and what the env exposes for the viewer (LunarLander's
   * terrain and legs, MuJoCo's qpos; see report/trajectory.ts).
   */
  trajectories?: Trajectory[];
}

/** Bootstrap resamples of the episode statistics (rliable's and `qttdm report`'s default). */
export const EPISODE_BOOTSTRAP_REPS = 2000;

/**
 * IQM and mean of the episode returns, each with a 95% stratified-bootstrap percentile interval (episodes as
 * runs of one task, rliable's definitions; report/stats.ts), from resamples drawn by a generator seeded with
 * `seed` (`qttdm eval` passes its first evaluation seed, so the same evaluation gives the same intervals).
 * Null when a return is not finite (the statistics are undefined then).
 */
export function episodeStatistics(returns: readonly number[], seed: number, reps = EPISODE_BOOTSTRAP_REPS): EpisodeStatistics | null {
  if (returns.length === 0 || !returns.every(Number.isFinite)) return null;
  const confidence = 0.95;
  const a = aggregate(returns.map((r) => [r]), { reps, seed, confidence });
  return { episodes: returns.length, iqm: a.iqm, mean: a.mean, confidence, reps, seed };
}

export function evaluate(env: Env, policy: GreedyPolicy, episodes: number, seed: number, record = false): EvalResult {
  const seeds: number[] = [];
  const returns: number[] = [];
  const lengths: number[] = [];
  const trajectories: Trajectory[] = [];
  const scene = record ? sceneRecorder(env) : null;
  for (let e = 0; e < episodes; e++) {
    let obs = env.reset({ seed: seed + e }).observation;
    scene?.begin();
    const info = new InfoRecorder();
    const traj: Trajectory = { observations: [Array.from(obs)], actions: [], rewards: [] };
    let total = 0;
    let length = 0;
    for (;;) {
      const action = policy(obs);
      const r = env.step(action);
      total += r.reward;
      length += 1;
      obs = r.observation;
      if (record) {
        traj.observations.push(Array.from(obs));
        traj.actions.push(typeof action === "number" ? action : Array.from(action));
        traj.rewards.push(r.reward);
        info.add(r.info);
        scene?.frame();
      }
      if (r.terminated || r.truncated) break;
    }
    seeds.push(seed + e);
    returns.push(total);
    lengths.push(length);
    if (record) {
      const infos = info.result();
      if (infos) traj.info = infos;
      if (scene) traj.scene = scene.end();
      trajectories.push(traj);
    }
  }
  const mean = returns.reduce((a, b) => a + b, 0) / episodes;
  const std = Math.sqrt(returns.reduce((a, b) => a + (b - mean) ** 2, 0) / episodes);
  return { seeds, returns, lengths, mean, std, ...(record ? { trajectories } : {}) };
}

/** A trainer's evaluation at `step`: each of the agent's greedy modes (its main one first) on the run's eval seeds. */
export function evaluateModes(config: Config, env: Env, agent: Agent, modes: readonly GreedyMode[], step: number, rng: Rng): [GreedyMode, EvalResult][] {
  return modes.map((mode) => [mode, evaluate(env, greedyPolicy(agent, () => step, rng, mode), config.eval.episodes, config.eval.seed)]);
}

/** An evaluation of the policy at `step` from `seed` as a held-out result (run-dir.ts keeps it). */
export function heldOutResult(step: number, seed: number, r: EvalResult): HeldOutResult {
  return { step, seed, episodes: r.returns.length, returns: r.returns, lengths: r.lengths, mean: r.mean, std: r.std };
}

/** The held-out evaluation of the agent at `step` (config eval.heldOut): `mode` on `episodes` seeds from `seed`. */
export function heldOutEvaluation(env: Env, agent: Agent, step: number, episodes: number, seed: number, mode: GreedyMode = "greedy"): HeldOutResult {
  return heldOutResult(step, seed, evaluate(env, greedyPolicy(agent, () => step, new Rng(0), mode), episodes, seed));
}

export interface CheckpointEvalOptions {
  checkpoint: string;
  episodes: number;
  /** First seed (default: the run's eval.seed). */
  seed?: number;
  record?: boolean;
  /** greedy (default) or greedy-online: the online critic where the run keeps a weight average. */
  mode?: GreedyMode;
}

/** `evaluateCheckpoint`'s result: the evaluation with the checkpoint, the env and the episode statistics. */
export interface CheckpointEvalResult extends EvalResult {
  checkpoint: string;
  /** Env steps of the checkpoint. */
  step: number;
  env: string;
  /** IQM and mean over the episodes with 95% CIs ({@link episodeStatistics}, seeded with the first seed); null if a return is not finite. */
  statistics: EpisodeStatistics | null;
}

/** Greedy evaluation of a saved agent (`qttdm eval`), on the run's fixed evaluation seeds. */
export async function evaluateCheckpoint(opts: CheckpointEvalOptions): Promise<CheckpointEvalResult> {
  const config = readRunConfig(opts.checkpoint);
  const ckpt = loadCheckpoint(opts.checkpoint);
  const step = parseEnvSteps(ckpt.trainer, ckpt.dir);
  await selectBackend(config.experiment.backend, config.experiment);
  const env = await makeEnv(config.env.id, config.env.options);
  const agent = createAgent(config, env, new Rng(0), { restoring: true });
  const rng = new Rng(0);
  try {
    agent.load(ckpt.agent);
    const seed = opts.seed ?? config.eval.seed;
    const r = evaluate(env, greedyPolicy(agent, () => 0, rng, opts.mode), opts.episodes, seed, opts.record);
    const { trajectories, ...rest } = r;
    // Statistics before the trajectories, so that the recorded JSON reads from its summary to its bulk.
    return { checkpoint: ckpt.dir, step, env: config.env.id, ...rest, statistics: episodeStatistics(r.returns, seed), ...(trajectories ? { trajectories } : {}) };
  } finally {
    agent.dispose();
    env.close();
  }
}
