/**
 * Greedy evaluation on fixed seeds: episode i is reset with `seed + i`, so every evaluation of a run
 * (and of different runs) sees the same starting states.
 */
import { selectBackend } from "../backend/index.js";
import { Rng } from "../core/rng.js";
import type { Agent, GreedyMode } from "../agents/types.js";
import { makeEnv } from "../envs/index.js";
import type { Env } from "../envs/types.js";
import { createAgent } from "./agents.js";
import { loadCheckpoint } from "./checkpoint.js";
import { readRunConfig } from "./run-dir.js";

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
  /** Per episode, when recording: observations, actions and rewards of every step. */
  trajectories?: { observations: number[][]; actions: (number | number[])[]; rewards: number[] }[];
}

export function evaluate(env: Env, policy: GreedyPolicy, episodes: number, seed: number, record = false): EvalResult {
  const seeds: number[] = [];
  const returns: number[] = [];
  const lengths: number[] = [];
  const trajectories: NonNullable<EvalResult["trajectories"]> = [];
  for (let e = 0; e < episodes; e++) {
    let obs = env.reset({ seed: seed + e }).observation;
    const traj = { observations: [Array.from(obs)], actions: [] as (number | number[])[], rewards: [] as number[] };
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
      }
      if (r.terminated || r.truncated) break;
    }
    seeds.push(seed + e);
    returns.push(total);
    lengths.push(length);
    if (record) trajectories.push(traj);
  }
  const mean = returns.reduce((a, b) => a + b, 0) / episodes;
  const std = Math.sqrt(returns.reduce((a, b) => a + (b - mean) ** 2, 0) / episodes);
  return { seeds, returns, lengths, mean, std, ...(record ? { trajectories } : {}) };
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

/** Greedy evaluation of a saved agent (`qttdm eval`), on the run's fixed evaluation seeds. */
export async function evaluateCheckpoint(opts: CheckpointEvalOptions): Promise<EvalResult & { checkpoint: string }> {
  const config = readRunConfig(opts.checkpoint);
  const ckpt = loadCheckpoint(opts.checkpoint);
  await selectBackend(config.experiment.backend, config.experiment);
  const env = await makeEnv(config.env.id, config.env.options);
  const agent = createAgent({ ...config, agent: { ...config.agent, encoderInit: null } }, env, new Rng(0));
  const rng = new Rng(0);
  try {
    agent.load(ckpt.agent);
    const r = evaluate(env, greedyPolicy(agent, () => 0, rng, opts.mode), opts.episodes, opts.seed ?? config.eval.seed, opts.record);
    return { checkpoint: ckpt.dir, ...r };
  } finally {
    agent.dispose();
    env.close();
  }
}
