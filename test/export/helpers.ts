// The network variants, the agent's own Q-values and comparisons shared by the exporter tests.
import * as tf from "@tensorflow/tfjs";
import { expect } from "vitest";
import type { DqnAgent } from "../../src/agents/dqn/agent.js";
import { Rng } from "../../src/core/rng.js";
import { makeEnv } from "../../src/envs/index.js";
import type { GreedyPolicy } from "../../src/export/policy.js";
import { createAgent } from "../../src/train/agents.js";
import { loadCheckpoint } from "../../src/train/checkpoint.js";

export { tinyRun } from "../helpers/runs.js";

/** The network variants the exporters must reproduce. */
export const VARIANTS = [
  ["plain MLP", [] as string[]],
  ["layer norm, dueling, weight average", ["agent.network.layerNorm=true", "agent.network.dueling=true", "agent.average.horizon=50"]],
  ["gelu encoder and head", ["agent.network.activation=gelu", "agent.network.encoderLayers=1"]],
  // The mean of three linear Q-heads, folded into one output layer.
  ["ensemble of 3 heads", ["agent.network.heads=3"]],
] as const;

/** The agent's greedy Q-values (its weight average where it keeps one) for n observations, computed by the agent's network. */
export async function agentQValues(dir: string, p: GreedyPolicy, obs: Float32Array, n: number): Promise<Float32Array> {
  const env = await makeEnv(p.config.env.id, p.config.env.options);
  const agent = createAgent(p.config, env, new Rng(0)) as DqnAgent;
  try {
    agent.load(loadCheckpoint(dir).agent);
    const net = agent.average ?? agent.online;
    return tf.tidy(() => Float32Array.from(net.apply(tf.tensor2d(obs, [n, p.obsDim])).dataSync()));
  } finally {
    agent.dispose();
    env.close();
  }
}

/** max |got − want| ≤ rel · max |want|: agreement relative to the Q-values' scale. */
export function expectRelClose(got: ArrayLike<number>, want: ArrayLike<number>, rel: number): void {
  expect(got.length).toBe(want.length);
  let scale = 0;
  let err = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]!));
    err = Math.max(err, Math.abs(got[i]! - want[i]!));
  }
  expect(err).toBeLessThanOrEqual(rel * Math.max(scale, 1e-6));
}

/** Rows whose best two Q-values differ by more than `margin` (relative to the scale): actions there are not ties. */
export function clearRows(q: ArrayLike<number>, n: number, width: number, margin: number): number[] {
  let scale = 1e-6;
  for (let i = 0; i < n * width; i++) scale = Math.max(scale, Math.abs(q[i]!));
  const rows: number[] = [];
  for (let r = 0; r < n; r++) {
    const row = Array.from({ length: width }, (_, j) => q[r * width + j]!).sort((a, b) => b - a);
    if (row[0]! - row[1]! > margin * scale) rows.push(r);
  }
  return rows;
}
