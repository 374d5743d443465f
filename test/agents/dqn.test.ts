import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { disrcSchema } from "../../src/agents/config.js";
import { dqnConfigSchema } from "../../src/agents/dqn/config.js";
import { DqnAgent } from "../../src/agents/dqn/agent.js";
import type { ReplaySource } from "../../src/agents/types.js";
import { selectBackend } from "../../src/backend/index.js";
import { Rng } from "../../src/core/rng.js";
import { box, discrete } from "../../src/envs/spaces.js";
import type { SampledBatch } from "../../src/replay/buffer.js";

beforeAll(async () => {
  await selectBackend("cpu");
});

const OBS = 4;
const ACTIONS = 3;
const spec = { observationSpace: box(-10, 10, [OBS]), actionSpace: discrete(ACTIONS) };

function agent(overrides: Record<string, unknown> = {}, totalUpdates = 1000): DqnAgent {
  const cfg = dqnConfigSchema.parse({ kind: "dqn", network: { hidden: [16, 16] }, lr: 3e-3, target: { every: 10_000 }, ...overrides });
  return new DqnAgent({ agent: cfg, disrc: disrcSchema.parse({}), totalSteps: 1000, totalUpdates, batchSize: 32, learningStarts: 0, restoring: false }, spec, new Rng(3));
}

/** A fixed batch of 32 random transitions; `weights` are its IS weights. */
function fixedBatch(rng: Rng, weights = 1): SampledBatch {
  const n = 32;
  const obs = rng.fillNormal(new Float32Array(n * OBS));
  const next = rng.fillNormal(new Float32Array(n * OBS));
  const reward = rng.fillNormal(new Float32Array(n), 0, 2);
  const done = new Uint8Array(n).map((_, i) => (i % 5 === 0 ? 1 : 0));
  return {
    n, indices: Int32Array.from({ length: n }, (_, i) => i), weights: new Float32Array(n).fill(weights), obs,
    action: Int32Array.from({ length: n }, (_, i) => i % ACTIONS), reward, nextObs: next, terminated: done,
    truncated: new Uint8Array(n), episodeId: new Int32Array(n), stepInEpisode: new Int32Array(n), returns: reward,
    bootstrapObs: next, discount: new Float32Array(n).fill(0.99), done, sampledAt: n,
    info: { step: 0, alpha: 0, beta: 0, isBeta: 0, refreshed: false, tdAbs: new Float32Array(n), reliability: new Float32Array(n), surprise: new Float32Array(n), weights: new Float32Array(n) },
  };
}

/** Reference states of churn reduction: the same 32 random observations every draw. */
const referenceStates = new Rng(9).fillNormal(new Float32Array(32 * OBS));

const source = (b: SampledBatch): ReplaySource => ({
  sample: () => b,
  sampleSequences: () => {
    throw new Error("the dqn agent samples no sequences");
  },
  sampleObservations: (n) => referenceStates.slice(0, n * OBS),
});

describe("DqnAgent", () => {
  it.each([false, true])("lowers its TD loss on a fixed batch against a frozen target, with a flat tensor count (layerNorm %s)", (layerNorm) => {
    const a = agent({ network: { hidden: [16, 16], layerNorm } });
    expect([...a.online.params().keys()].filter((k) => k.includes("/norm")).length).toBe(layerNorm ? 4 : 0);
    const replay = source(fixedBatch(new Rng(1)));
    const first = a.update(replay);
    expect(first.tdError).toHaveLength(32);
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 200; i++) last = a.update(replay);
    expect(tf.memory().numTensors).toBe(before);
    expect(last.scalars["losses/td_loss"]!).toBeLessThan(0.25 * first.scalars["losses/td_loss"]!);
    a.dispose();
  });

  it("applies the IS weights to the per-sample loss: zero weights leave the network unchanged", () => {
    const a = agent();
    const b = fixedBatch(new Rng(2), 0);
    const probe = tf.tensor2d(b.obs, [b.n, OBS]);
    const q0 = a.online.apply(probe).arraySync();
    const r = a.update(source(b));
    expect(r.scalars["losses/td_loss"]).toBe(0);
    expect(a.online.apply(probe).arraySync()).toEqual(q0);
    // The TD errors are still reported (for the priorities), whatever the weights.
    expect(r.tdError.some((d) => d !== 0)).toBe(true);
    probe.dispose();
    a.dispose();
  });

  it("copies the online network into the target every target.every updates", () => {
    const a = agent({ target: { mode: "hard", every: 3 } });
    const replay = source(fixedBatch(new Rng(4)));
    const probe = tf.tensor2d(new Rng(5).fillNormal(new Float32Array(8 * OBS)), [8, OBS]);
    const same = () => JSON.stringify(a.online.apply(probe).arraySync()) === JSON.stringify(a.target.apply(probe).arraySync());
    a.update(replay);
    a.update(replay);
    expect(same()).toBe(false);
    a.update(replay);
    expect(same()).toBe(true);
    probe.dispose();
    a.dispose();
  });

  it("decays the learning rate of encoder and head over the configured fraction of the run's updates", () => {
    const a = agent({ lr: 1e-3, encoderLr: 5e-4, lrDecay: { shape: "linear", endFactor: 0.1, fraction: 0.5 } }, 40);
    const replay = source(fixedBatch(new Rng(1)));
    const seen: number[] = [];
    for (let i = 0; i < 30; i++) seen.push(a.update(replay).scalars["charts/learning_rate"]!);
    expect(seen[0]).toBeCloseTo(1e-3, 12);
    expect(seen[10]).toBeCloseTo(1e-3 * (1 - 0.9 * 0.5), 12);
    expect(seen[20]).toBeCloseTo(1e-4, 12);
    expect(seen[29]).toBeCloseTo(1e-4, 12);
    expect(a.optimizer.learningRate(0)).toBeCloseTo(5e-5, 12);
    expect(agent().update(replay).scalars["charts/learning_rate"]).toBe(3e-3);
    a.dispose();
  });

  describe("weight-averaged greedy policy (agent.average)", () => {
    const snapshot = (net: DqnAgent["online"]) => new Map([...net.params()].map(([k, v]) => [k, Float64Array.from(v.dataSync())]));

    it("is the exact mean of the first `horizon` updates' weights, then an exponential average with rate 1/horizon", () => {
      const a = agent({ average: { horizon: 3 } });
      const replay = source(fixedBatch(new Rng(4)));
      const expected = snapshot(a.online);
      for (let k = 1; k <= 6; k++) {
        a.update(replay);
        const rate = 1 / Math.min(k, 3);
        for (const [name, w] of snapshot(a.online)) {
          const avg = expected.get(name)!;
          for (let i = 0; i < w.length; i++) avg[i] = avg[i]! + (w[i]! - avg[i]!) * rate;
        }
      }
      let maxErr = 0;
      let maxGap = 0;
      const online = snapshot(a.online);
      for (const [name, v] of snapshot(a.average!)) {
        v.forEach((x, i) => {
          maxErr = Math.max(maxErr, Math.abs(x - expected.get(name)![i]!));
          maxGap = Math.max(maxGap, Math.abs(x - online.get(name)![i]!));
        });
      }
      expect(maxErr).toBeLessThan(1e-6);
      expect(maxGap).toBeGreaterThan(1e-3); // the average lags the online weights
      a.dispose();
    });

    it("acts greedily with the average, with the online critic in greedy-online and explore modes, and checkpoints it", () => {
      const a = agent({ average: { horizon: 50 }, exploration: { end: 0 } });
      const replay = source(fixedBatch(new Rng(5)));
      for (let i = 0; i < 60; i++) a.update(replay);
      const states = new Rng(8).fillNormal(new Float32Array(256 * OBS), 0, 3);
      const byAverage = a.greedy(states, 256, a.average!);
      const byOnline = a.greedy(states, 256);
      expect(byAverage).not.toEqual(byOnline);
      const rng = new Rng(0);
      expect(a.act(states, 256, "greedy", 0, rng)).toEqual(byAverage);
      expect(a.act(states, 256, "greedy-online", 0, rng)).toEqual(byOnline);
      expect(a.act(states, 256, "explore", 1000, rng)).toEqual(byOnline); // ε has decayed to 0
      const restored = agent({ average: { horizon: 50 } });
      restored.load(a.state());
      expect(restored.act(states, 256, "greedy", 0, rng)).toEqual(byAverage);
      expect(() => agent({ average: { horizon: 50 } }).load(agent().state())).toThrow(/no "average" weights/);
      a.dispose();
      restored.dispose();
    });

    it("leaves the other networks' initial weights as they are without it", () => {
      const [withAvg, without] = [agent({ average: { horizon: 10 } }), agent()];
      expect(snapshot(withAvg.online)).toEqual(snapshot(without.online));
      expect(snapshot(withAvg.average!)).toEqual(snapshot(without.online));
      withAvg.dispose();
      without.dispose();
    });
  });

  it.each(["online", "target", "average"] as const)("explores ε-greedily around the network that exploration.network names (%s)", (network) => {
    const a = agent({ average: { horizon: 50 }, exploration: { end: 0, network } });
    const replay = source(fixedBatch(new Rng(5)));
    for (let i = 0; i < 60; i++) a.update(replay); // the target is still the initial copy (target.every 10,000)
    const states = new Rng(8).fillNormal(new Float32Array(256 * OBS), 0, 3);
    const by = { online: a.greedy(states, 256), target: a.greedy(states, 256, a.target), average: a.greedy(states, 256, a.average!) };
    expect(new Set(Object.values(by).map((x) => x.join()))).toHaveProperty("size", 3);
    const rng = new Rng(0);
    expect(a.act(states, 256, "explore", 1000, rng)).toEqual(by[network]); // ε has decayed to 0
    expect(a.act(states, 256, "greedy", 0, rng)).toEqual(by.average);
    a.dispose();
  });

  it("refuses to explore with the average when there is none", () => {
    expect(() => agent({ exploration: { network: "average" } })).toThrow(/"agent.exploration.network": got "average" while agent.average.horizon is null/);
  });

  describe("churn reduction (agent.churn)", () => {
    /** Mean |ΔQ| on the reference states over updates 2…21 of a fixed batch. */
    function churnOver(churn: Record<string, unknown>): { drift: number; scalars: Record<string, number>[] } {
      const a = agent({ churn });
      const replay = source(fixedBatch(new Rng(6)));
      const probe = tf.tensor2d(referenceStates, [32, OBS]);
      const qOnProbe = () => {
        const q = tf.tidy(() => a.online.apply(probe));
        const values = Array.from(q.dataSync());
        q.dispose();
        return values;
      };
      const scalars = [a.update(replay).scalars];
      const q0 = qOnProbe();
      const tensors = tf.memory().numTensors;
      for (let i = 0; i < 20; i++) scalars.push(a.update(replay).scalars);
      expect(tf.memory().numTensors).toBe(tensors);
      const q1 = qOnProbe();
      probe.dispose();
      a.dispose();
      return { drift: q0.reduce((s, v, i) => s + Math.abs(v - q1[i]!), 0) / q0.length, scalars };
    }

    it("holds Q on the reference states: a heavy churn term moves them far less than plain TD updates", () => {
      const plain = churnOver({ mode: "off" });
      const held = churnOver({ mode: "fixed", weight: 1e4 });
      expect(plain.scalars[1]!["losses/churn_loss"]).toBeUndefined();
      expect(held.scalars[1]!["losses/churn_coef"]).toBe(1e4);
      // The first update has nothing to hold on to (the previous network is the current one).
      expect(held.scalars[0]!["losses/churn_loss"]).toBe(0);
      expect(held.scalars[1]!["losses/churn_loss"]).toBeGreaterThan(0);
      expect(held.drift).toBeLessThan(0.2 * plain.drift);
    });

    it("mode auto sets λ = scale · mean TD loss / mean churn loss from the earlier updates", () => {
      const { scalars } = churnOver({ mode: "auto", weight: 7, scale: 0.05, horizon: 4 });
      expect(scalars[0]!["losses/churn_coef"]).toBe(7);
      expect(scalars[1]!["losses/churn_coef"]).toBe(7); // no churn measured yet (update 1's was 0)
      let td = 0;
      let churn = 0;
      scalars.forEach((s, i) => {
        if (i >= 2) expect(s["losses/churn_coef"]!).toBeCloseTo((0.05 * td) / churn, 6);
        const rate = 1 / Math.min(i + 1, 4);
        td += (s["losses/td_loss"]! - td) * rate;
        churn += (s["losses/churn_loss"]! - churn) * rate;
      });
    });
  });
});

describe("DqnAgent with an ensemble of Q-heads", () => {
  it("acts on the heads' mean, reports the spread of their TD errors, and lowers its loss", () => {
    const a = agent({ network: { hidden: [16, 16], heads: 3 } });
    const probe = tf.tensor2d(new Rng(4).fillNormal(new Float32Array(8 * OBS)), [8, OBS]);
    const heads = a.online.applyHeads(probe);
    expect(heads.shape).toEqual([8, 3, ACTIONS]);
    expect(a.online.apply(probe).arraySync()).toEqual(tf.mean(heads, 1).arraySync());
    const replay = source(fixedBatch(new Rng(1)));
    const first = a.update(replay);
    expect(first.tdStd).toHaveLength(32);
    expect(Math.min(...first.tdStd!)).toBeGreaterThan(0);
    let last = first;
    for (let i = 0; i < 200; i++) last = a.update(replay);
    expect(last.scalars["losses/td_loss"]!).toBeLessThan(0.25 * first.scalars["losses/td_loss"]!);
    a.dispose();
  });

  it("trains every head from its own target; bootstrap masks that keep no sample leave the network unchanged", () => {
    const replay = source(fixedBatch(new Rng(2)));
    const probe = tf.tensor2d(new Rng(4).fillNormal(new Float32Array(8 * OBS)), [8, OBS]);
    const a = agent({ network: { hidden: [16, 16], heads: 3 } });
    const before = a.online.applyHeads(probe).arraySync() as number[][][];
    a.update(replay);
    const after = a.online.applyHeads(probe).arraySync() as number[][][];
    for (let k = 0; k < 3; k++) expect(after[0]![k]).not.toEqual(before[0]![k]);
    a.dispose();
    const masked = agent({ network: { hidden: [16, 16], heads: 3, headMask: 1e-9 } });
    const q0 = masked.online.apply(probe).arraySync();
    const r = masked.update(replay);
    expect(r.scalars["losses/td_loss"]).toBe(0);
    expect(masked.online.apply(probe).arraySync()).toEqual(q0);
    masked.dispose();
  });

  it("refuses heads with a dueling output", () => {
    expect(() => agent({ network: { hidden: [16], heads: 2, dueling: true } })).toThrow(/"agent.network.heads": got 2 with agent.network.dueling true/);
  });
});
