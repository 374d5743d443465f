/** Whole-episode rollouts of a fixed policy (`qttdm env rollout`), for smoke tests and baselines. */
import { mean } from "../core/arrays.js";
import { ConfigError, show } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { heuristic } from "./box2d/index.js";
import { makeEnv, type MakeSettings } from "./make.js";
import { sampleSpace } from "./spaces.js";
import type { Action } from "./types.js";

export type RolloutPolicy = "heuristic" | "random";

export interface RolloutOptions {
  env: string;
  policy: RolloutPolicy;
  episodes: number;
  /** Episode j is reset with seed + j; the random policy draws from Rng(seed). */
  seed: number;
  options?: Record<string, unknown>;
  settings?: MakeSettings;
}

export interface RolloutResult {
  env: string;
  policy: RolloutPolicy;
  seed: number;
  returns: Float64Array;
  lengths: Int32Array;
  /** 1 where the episode ended by termination (crash, landing), 0 where by the time limit. */
  terminated: Uint8Array;
  meanReturn: number;
  meanLength: number;
}

export async function rollout(opts: RolloutOptions): Promise<RolloutResult> {
  const { policy, episodes, seed } = opts;
  if (policy !== "heuristic" && policy !== "random") {
    throw new ConfigError(`rollout: policy must be "heuristic" or "random", got ${show(policy)}`);
  }
  if (policy === "heuristic" && !opts.env.startsWith("LunarLander")) {
    throw new ConfigError(`rollout: the heuristic policy exists only for LunarLander, not ${show(opts.env)}; use "random"`);
  }
  if (!Number.isInteger(episodes) || episodes < 1) throw new ConfigError(`rollout: episodes must be a positive integer, got ${show(episodes)}`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ConfigError(`rollout: seed must be a non-negative integer, got ${show(seed)}`);

  const env = await makeEnv(opts.env, opts.options ?? {}, opts.settings);
  const continuous = env.actionSpace.kind === "box";
  const rng = new Rng(seed);
  const returns = new Float64Array(episodes);
  const lengths = new Int32Array(episodes);
  const terminated = new Uint8Array(episodes);
  try {
    for (let ep = 0; ep < episodes; ep++) {
      let obs = env.reset({ seed: seed + ep }).observation;
      let total = 0;
      let steps = 0;
      for (;;) {
        const action: Action = policy === "heuristic" ? heuristic(obs, continuous) : sampleSpace(env.actionSpace, rng);
        const r = env.step(action);
        total += r.reward;
        steps += 1;
        obs = r.observation;
        if (r.terminated || r.truncated) {
          terminated[ep] = r.terminated ? 1 : 0;
          break;
        }
      }
      returns[ep] = total;
      lengths[ep] = steps;
    }
  } finally {
    env.close();
  }
  return { env: opts.env, policy, seed, returns, lengths, terminated, meanReturn: mean(returns), meanLength: mean(lengths) };
}
