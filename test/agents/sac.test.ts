import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { disrcSchema } from "../../src/agents/config.js";
import { SacAgent } from "../../src/agents/sac/agent.js";
import { sacConfigSchema } from "../../src/agents/sac/config.js";
import { SquashedGaussianPolicy } from "../../src/agents/sac/policy.js";
import type { ReplaySource } from "../../src/agents/types.js";
import { selectBackend } from "../../src/backend/index.js";
import { Rng } from "../../src/core/rng.js";
import { box, discrete } from "../../src/envs/spaces.js";
import type { SampledBatch } from "../../src/replay/buffer.js";
import { RUN_SIZES } from "../helpers/agents.js";

beforeAll(async () => {
  await selectBackend("cpu");
});

const OBS = 3;
const LOW = [-2, 0];
const HIGH = [2, 1];
const spec = { observationSpace: box(-10, 10, [OBS]), actionSpace: box(LOW, HIGH, [2]) };

function agent(overrides: Record<string, unknown> = {}, seed = 3, learningStarts = 0): SacAgent {
  const cfg = sacConfigSchema.parse({ kind: "sac", actor: { hidden: [32, 32] }, critic: { hidden: [32, 32] }, ...overrides });
  return new SacAgent({ agent: cfg, disrc: disrcSchema.parse({}), ...RUN_SIZES, learningStarts, batchSize: 32 }, spec, new Rng(seed));
}

/** A fixed batch of 32 random transitions with actions inside the box. */
function fixedBatch(rng: Rng): SampledBatch {
  const n = 32;
  const obs = rng.fillNormal(new Float32Array(n * OBS));
  const next = rng.fillNormal(new Float32Array(n * OBS));
  const reward = rng.fillNormal(new Float32Array(n));
  const action = Float32Array.from({ length: n * 2 }, (_, j) => rng.uniform(LOW[j % 2]!, HIGH[j % 2]!));
  const done = new Uint8Array(n).map((_, i) => (i % 7 === 0 ? 1 : 0));
  return {
    n, indices: Int32Array.from({ length: n }, (_, i) => i), weights: new Float32Array(n).fill(1), obs, action, reward, nextObs: next,
    terminated: done, truncated: new Uint8Array(n), episodeId: new Int32Array(n), stepInEpisode: new Int32Array(n), returns: reward,
    bootstrapObs: next, discount: new Float32Array(n).fill(0.99), done, sampledAt: n,
    info: { step: 0, alpha: 0, beta: 0, isBeta: 0, refreshed: false, tdAbs: new Float32Array(n), reliability: new Float32Array(n), surprise: new Float32Array(n), weights: new Float32Array(n) },
  };
}

const source = (b: SampledBatch): ReplaySource => ({
  sample: () => b,
  sampleSequences: () => {
    throw new Error("the sac agent samples no sequences");
  },
  sampleObservations: () => {
    throw new Error("the sac agent samples no reference states");
  },
});

const read = (t: tf.Tensor) => Array.from(t.dataSync());

describe("SquashedGaussianPolicy", () => {
  const scale = Float32Array.from([2, 0.5]);
  const bias = Float32Array.from([0, 0.5]);
  let policy: SquashedGaussianPolicy;
  let obs: tf.Tensor2D;
  beforeAll(() => {
    policy = new SquashedGaussianPolicy("pi", OBS, { hidden: [16], logStdMin: -5, logStdMax: 2, scale, bias }, new Rng(1));
    obs = tf.tensor2d(new Rng(2).fillNormal(new Float32Array(8 * OBS)), [8, OBS]);
  });

  it("gives log π(a|s) of the squashed action: the Gaussian density of u over |da/du| (finite differences)", () => {
    const noise = new Rng(3).fillNormal(new Float32Array(16));
    const { action, logProb } = policy.sample(obs, tf.tensor2d(noise, [8, 2]), true);
    const { mean, logStd } = policy.gaussian(obs, true);
    const [mu, ls, a, lp] = [read(mean), read(logStd), read(action), read(logProb)];
    const squash = (u: number, k: number) => Math.tanh(u) * scale[k]! + bias[k]!;
    for (let i = 0; i < 8; i++) {
      let expected = 0;
      for (let k = 0; k < 2; k++) {
        const j = i * 2 + k;
        const sigma = Math.exp(ls[j]!);
        const u = mu[j]! + sigma * noise[j]!;
        expect(a[j]).toBeCloseTo(squash(u, k), 5);
        const h = 1e-4;
        const slope = (squash(u + h, k) - squash(u - h, k)) / (2 * h);
        expected += -0.5 * ((u - mu[j]!) / sigma) ** 2 - Math.log(sigma * Math.sqrt(2 * Math.PI)) - Math.log(slope);
      }
      expect(lp[i]).toBeCloseTo(expected, 3);
    }
  });

  it("keeps actions inside the box and the log-std inside its bounds; the mode is tanh(μ) scaled", () => {
    const big = tf.mul(obs, 1e3) as tf.Tensor2D;
    const { logStd } = policy.gaussian(big, true);
    for (const v of read(logStd)) expect(v >= -5 && v <= 2).toBe(true);
    const a = read(policy.sample(big, tf.tensor2d(new Rng(4).fillNormal(new Float32Array(16)), [8, 2]), true).action);
    a.forEach((v, j) => expect(v >= LOW[j % 2]! && v <= HIGH[j % 2]!).toBe(true));
    const m = read(policy.mode(obs));
    const mu = read(policy.gaussian(obs, true).mean);
    m.forEach((v, j) => expect(v).toBeCloseTo(Math.tanh(mu[j]!) * scale[j % 2]! + bias[j % 2]!, 5));
  });
});

describe("SacAgent", () => {
  it("acts uniformly over the box before learning starts, then by the policy: noisy to explore, its mode to evaluate", () => {
    const a = agent({}, 3, 100);
    const obs = new Rng(5).fillNormal(new Float32Array(64 * OBS));
    const early = a.act(obs, 64, "explore", 0, new Rng(6));
    early.forEach((v, j) => expect(v >= LOW[j % 2]! && v <= HIGH[j % 2]!).toBe(true));
    // Uniform: both halves of each dimension's range are visited.
    for (let k = 0; k < 2; k++) {
      const mid = (LOW[k]! + HIGH[k]!) / 2;
      const below = Array.from(early).filter((v, j) => j % 2 === k && v < mid).length;
      expect(below).toBeGreaterThan(16);
      expect(below).toBeLessThan(48);
    }
    const greedy = a.act(obs, 64, "greedy", 500, new Rng(7));
    expect(a.act(obs, 64, "greedy", 500, new Rng(8))).toEqual(greedy);
    const explore = a.act(obs, 64, "explore", 500, new Rng(7));
    expect(a.act(obs, 64, "explore", 500, new Rng(7))).toEqual(explore);
    expect(explore).not.toEqual(greedy);
    explore.forEach((v, j) => expect(v >= LOW[j % 2]! && v <= HIGH[j % 2]!).toBe(true));
    a.dispose();
  });

  it("lowers its critic loss on a fixed batch, reports twin TD errors and their spread, lowers α while the entropy is above target", () => {
    const a = agent({ critic: { hidden: [32, 32], tau: 0.001 } });
    const replay = source(fixedBatch(new Rng(1)));
    const first = a.update(replay);
    const before = tf.memory().numTensors;
    expect(first.tdError).toHaveLength(32);
    expect(first.tdStd).toHaveLength(32);
    expect(Math.max(...first.tdStd!)).toBeGreaterThan(0);
    let last = first;
    for (let i = 0; i < 299; i++) last = a.update(replay);
    expect(tf.memory().numTensors).toBe(before);
    expect(last.scalars["losses/td_loss"]!).toBeLessThan(0.3 * first.scalars["losses/td_loss"]!);
    // Policy updates are delayed (actor.updateEvery 2): the first update trains the critics only.
    expect(first.scalars["losses/actor_loss"]).toBeUndefined();
    expect(last.scalars["losses/actor_loss"]).toBeDefined();
    // The initial policy's entropy (σ near 1 on a box of widths 4 and 1) is above the target −dim(A) = −2: α falls.
    expect(last.scalars["losses/entropy"]!).toBeGreaterThan(-2);
    expect(last.scalars["losses/alpha"]!).toBeLessThan(0.9 * first.scalars["losses/alpha"]!);
    a.dispose();
  });

  it("weights its critic loss by DISRC's 1 − tanh(S) when enabled, and reports the surprises", () => {
    const cfg = sacConfigSchema.parse({ kind: "sac", actor: { hidden: [16] }, critic: { hidden: [16] } });
    const disrc = disrcSchema.parse({ enabled: true, hidden: [16], latentDim: 4 });
    const a = new SacAgent({ agent: cfg, disrc, ...RUN_SIZES, batchSize: 32 }, spec, new Rng(3));
    const r = a.update(source(fixedBatch(new Rng(1))));
    expect(r.surprise).toHaveLength(32);
    expect(r.scalars["disrc/weight_mean"]).toBeGreaterThan(0);
    expect(r.scalars["disrc/weight_mean"]).toBeLessThanOrEqual(1);
    expect(a.parameterCounts().surprise).toBeGreaterThan(0);
    a.dispose();
  });

  it("keeps α fixed when entropy.auto is false", () => {
    const a = agent({ entropy: { auto: false, alpha: 0.05 } });
    const replay = source(fixedBatch(new Rng(1)));
    for (let i = 0; i < 4; i++) a.update(replay);
    expect(a.alpha).toBeCloseTo(0.05, 6);
    expect(a.alphaOptimizer).toBeNull();
    a.dispose();
  });

  it("restores every network, optimiser, α and its update noise from its state: the next updates are identical", () => {
    const replay = source(fixedBatch(new Rng(1)));
    const a = agent();
    for (let i = 0; i < 5; i++) a.update(replay);
    const b = agent({}, 99);
    b.load(a.state());
    for (let i = 0; i < 3; i++) {
      const ra = a.update(replay);
      const rb = b.update(replay);
      expect(rb.tdError).toEqual(ra.tdError);
      expect(rb.scalars).toEqual(ra.scalars);
    }
    const obs = new Rng(5).fillNormal(new Float32Array(4 * OBS));
    expect(b.act(obs, 4, "explore", 10, new Rng(1))).toEqual(a.act(obs, 4, "explore", 10, new Rng(1)));
    a.dispose();
    b.dispose();
  });

  it("refuses a discrete action space and an empty log-std range with errors naming what to change", () => {
    const cfg = sacConfigSchema.parse({ kind: "sac" });
    const settings = { agent: cfg, disrc: disrcSchema.parse({}), ...RUN_SIZES, batchSize: 32 };
    expect(() => new SacAgent(settings, { observationSpace: spec.observationSpace, actionSpace: discrete(3) }, new Rng(1))).toThrow(/continuous \(Box\) action space.*agent\.kind: dqn/);
    expect(() => agent({ actor: { logStdMin: 2, logStdMax: 2 } })).toThrow(/"agent.actor.logStdMin": got 2; expected less than agent.actor.logStdMax/);
  });
});
