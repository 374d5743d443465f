import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { agentConfigSchema, disrcSchema } from "../../src/agents/config.js";
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
  const cfg = agentConfigSchema.parse({ network: { hidden: [16, 16] }, lr: 3e-3, target: { every: 10_000 }, ...overrides });
  return new DqnAgent({ agent: cfg, disrc: disrcSchema.parse({}), totalSteps: 1000, totalUpdates, batchSize: 32 }, spec, new Rng(3));
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
