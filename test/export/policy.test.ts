import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DqnAgent } from "../../src/agents/dqn/agent.js";
import { loadConfig } from "../../src/config/load.js";
import { Rng } from "../../src/core/rng.js";
import { makeEnv } from "../../src/envs/index.js";
import { greedyPolicy, policyQValues } from "../../src/export/policy.js";
import { createAgent } from "../../src/train/agents.js";
import { loadCheckpoint } from "../../src/train/checkpoint.js";
import { train } from "../../src/train/trainer.js";

const tiny = ["experiment.backend=cpu", "agent.network.hidden=[16, 16]", "train.learningStarts=100", "train.batchSize=16", "eval.episodes=1", "experiment.totalSteps=300", "eval.every=0", "checkpoint.every=0"];

async function run(extra: string[], preset?: string): Promise<string> {
  const runs = mkdtempSync(join(tmpdir(), "qttdm-policy-"));
  await train({ config: loadConfig({ config: preset, set: [...tiny, ...extra, `experiment.runsDir=${runs}`] }), progress: false, print: () => {} });
  return join(runs, readdirSync(runs)[0]!);
}

describe("greedy policy of a checkpoint", () => {
  it.each([
    ["plain MLP", [] as string[], undefined],
    ["layer norm, dueling, weight average", ["agent.network.layerNorm=true", "agent.network.dueling=true", "agent.average.horizon=50"], undefined],
    ["gelu encoder and head", ["agent.network.activation=gelu", "agent.network.encoderLayers=1"], undefined],
  ] as const)("%s: its arrays compute the agent's greedy Q-values", async (_, extra, preset) => {
    const dir = await run([...extra], preset);
    const p = await greedyPolicy(dir);
    const config = p.config;
    const env = await makeEnv(config.env.id, config.env.options);
    const agent = createAgent(config, env, new Rng(0)) as DqnAgent;
    agent.load(loadCheckpoint(dir).agent);
    const net = agent.average ?? agent.online;
    const obs = new Rng(3).fillNormal(new Float32Array(7 * p.obsDim), 0, 1);
    const want = tf.tidy(() => Array.from(net.apply(tf.tensor2d(obs, [7, p.obsDim])).dataSync()));
    const got = Array.from(policyQValues(p, obs, 7));
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
    expect(p.source).toContain(extra.some((e) => e.startsWith("agent.average")) ? "weight average" : "online");
    agent.dispose();
    env.close();
  });

  it("refuses a planning agent with a clear reason", async () => {
    const dir = await run(["agent.planner.mode=qt", "agent.tdm={size: small, layers: 1, width: 16, heads: 2}", "agent.qt.layers=1", "agent.qt.width=16", "agent.qt.heads=2"], "lunarlander/qttdm");
    await expect(greedyPolicy(dir)).rejects.toThrow(/acts by the Q-Transformer's autoregressive decoding; only a greedy Q-network can be exported/);
  });
});
