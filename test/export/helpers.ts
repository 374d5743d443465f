// Tiny real runs and the agent's own Q-values, shared by the exporter tests.
import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import type { DqnAgent } from "../../src/agents/dqn/agent.js";
import { loadConfig } from "../../src/config/load.js";
import { Rng } from "../../src/core/rng.js";
import { makeEnv } from "../../src/envs/index.js";
import type { GreedyPolicy } from "../../src/export/policy.js";
import { createAgent } from "../../src/train/agents.js";
import { loadCheckpoint } from "../../src/train/checkpoint.js";
import { train } from "../../src/train/trainer.js";

export const TINY = ["experiment.backend=cpu", "agent.network.hidden=[16, 16]", "train.learningStarts=100", "train.batchSize=16", "eval.episodes=1", "experiment.totalSteps=300", "eval.every=0", "checkpoint.every=0"];

/** The three network variants the exporters must reproduce. */
export const VARIANTS = [
  ["plain MLP", [] as string[]],
  ["layer norm, dueling, weight average", ["agent.network.layerNorm=true", "agent.network.dueling=true", "agent.average.horizon=50"]],
  ["gelu encoder and head", ["agent.network.activation=gelu", "agent.network.encoderLayers=1"]],
] as const;

/** Trains a tiny LunarLander DQN run in-process; returns its run directory. */
export async function tinyRun(extra: readonly string[], preset?: string): Promise<string> {
  const runs = mkdtempSync(join(tmpdir(), "qttdm-export-"));
  await train({ config: loadConfig({ config: preset, set: [...TINY, ...extra, `experiment.runsDir=${runs}`] }), progress: false, print: () => {} });
  return join(runs, readdirSync(runs)[0]!);
}

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

/** Row argmax (first index on ties) of n rows of `width` values. */
export function argmaxRows(q: ArrayLike<number>, n: number, width: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let j = 1; j < width; j++) if (q[r * width + j]! > q[r * width + best]!) best = j;
    out.push(best);
  }
  return out;
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
