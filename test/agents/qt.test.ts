import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { qtSchema } from "../../src/agents/qttdm/config.js";
import { ActionBins } from "../../src/agents/qt/bins.js";
import { QtLearner } from "../../src/agents/qt/learner.js";
import { QTransformer } from "../../src/agents/qt/model.js";
import { selectBackend } from "../../src/backend/index.js";
import { Rng } from "../../src/core/rng.js";
import { box, discrete } from "../../src/envs/spaces.js";
import type { SampledBatch } from "../../src/replay/buffer.js";

beforeAll(async () => {
  await selectBackend("cpu");
});

const cfg = qtSchema.parse({ layers: 2, width: 16, heads: 2, headHidden: 16, bins: 5 });

/** Sets every parameter to small random values (the heads start at zero, which would hide dependencies). */
function randomize(m: QTransformer, rng: Rng): void {
  for (const v of m.params().values()) v.assign(tf.tensor(rng.fillNormal(new Float32Array(v.size), 0, 0.3), v.shape));
}

function batch(n: number, obsDim: number, actionDim: number, rng: Rng, actions?: Float32Array | Int32Array): SampledBatch {
  const obs = rng.fillNormal(new Float32Array(n * obsDim), 0, 1) as Float32Array;
  const next = rng.fillNormal(new Float32Array(n * obsDim), 0, 1) as Float32Array;
  const reward = rng.fillNormal(new Float32Array(n), 0, 1) as Float32Array;
  const action = actions ?? (rng.fillUniform(new Float32Array(n * actionDim), -1, 1) as Float32Array);
  const done = new Uint8Array(n).map((_, i) => (i % 4 === 0 ? 1 : 0));
  return {
    n, indices: Int32Array.from({ length: n }, (_, i) => i), weights: new Float32Array(n).fill(1), obs, action, reward, nextObs: next,
    terminated: done, truncated: new Uint8Array(n), episodeId: new Int32Array(n), stepInEpisode: new Int32Array(n),
    returns: reward, bootstrapObs: next, discount: new Float32Array(n).fill(0.99), done, sampledAt: n,
    info: { step: 0, alpha: 0, beta: 0, isBeta: 0, refreshed: false, tdAbs: new Float32Array(n), reliability: new Float32Array(n), surprise: new Float32Array(n), weights: new Float32Array(n) },
  };
}

describe("ActionBins", () => {
  it("maps env actions to unit coordinates and bins, with the end bins at the bounds", () => {
    const c = new ActionBins(box([-3, 0], [3, 1], [2]), 7);
    expect(Array.from(c.toUnit([-3, 0, 3, 1, 0, 0.5], 3))).toEqual([-1, -1, 1, 1, 0, 0]);
    expect(Array.from(c.replayToBins(Float32Array.from([-3, 1, 0.4, 0.5]), 2))).toEqual([0, 6, 3, 3]);
    expect(Array.from(c.toEnv(c.binsToUnit([0, 6, 3, 3]), 2))).toEqual([-3, 1, 0, 0.5]);
    const d = new ActionBins(discrete(4), 99);
    expect([d.dims, d.bins, d.discrete]).toEqual([1, 4, true]);
  });

  it("refuses unbounded boxes and too few bins", () => {
    expect(() => new ActionBins(box(-Infinity, 1, [1]), 5)).toThrow(/finite/);
    expect(() => new ActionBins(box(-1, 1, [1]), 1)).toThrow(/agent\.qt\.bins/);
  });
});

describe("QTransformer", () => {
  it("gives one row of bins Q-values per position, per head", () => {
    const rng = new Rng(1);
    const q = new QTransformer("qt", 6, new ActionBins(box(-1, 1, [3]), 5), cfg, rng);
    const out = tf.tidy(() => q.apply(tf.zeros([4, 6]) as tf.Tensor2D, q.prefixIds(new Int32Array(12), 4, 2)).map((t) => t.shape));
    expect(out).toEqual([[4, 3, 5], [4, 3, 5]]);
    const d = new QTransformer("qt", 6, new ActionBins(discrete(4), 5), cfg, rng);
    expect(tf.tidy(() => d.apply(tf.zeros([2, 6]) as tf.Tensor2D, null)[0]!.shape)).toEqual([2, 1, 4]);
    expect(d.actEmbed).toBeNull();
    q.dispose();
    d.dispose();
  });

  it("starts at Q = 0 (zero-initialised heads)", () => {
    const q = new QTransformer("qt", 3, new ActionBins(box(-1, 1, [2]), 5), cfg, new Rng(2));
    const v = tf.tidy(() => q.meanQ(tf.ones([2, 3]) as tf.Tensor2D, q.prefixIds(new Int32Array(4), 2, 1)).dataSync());
    expect(Array.from(v).every((x) => x === 0)).toBe(true);
    q.dispose();
  });

  it("is causal: the Q-values of dimension k never see the bins of dimensions >= k", () => {
    const rng = new Rng(3);
    const N = 4;
    const q = new QTransformer("qt", 5, new ActionBins(box(-1, 1, [N]), 5), cfg, rng);
    randomize(q, rng);
    const b = 3;
    const obs = tf.tensor2d(rng.fillNormal(new Float32Array(b * 5), 0, 1), [b, 5]);
    const bins = Int32Array.from({ length: b * N }, () => rng.integers(0, 5));
    const run = (x: Int32Array) => tf.tidy(() => q.apply(obs, q.prefixIds(x, b, N - 1)).map((t) => t.arraySync() as number[][][]));
    const base = run(bins);
    for (let k = 0; k < N; k++) {
      const perturbed = bins.slice();
      for (let i = 0; i < b; i++) for (let j = k; j < N; j++) perturbed[i * N + j] = (perturbed[i * N + j]! + 1 + j) % 5;
      const out = run(perturbed);
      for (let h = 0; h < 2; h++) {
        for (let i = 0; i < b; i++) {
          for (let pos = 0; pos <= k; pos++) expect(out[h]![i]![pos]).toEqual(base[h]![i]![pos]);
          // Dimension k + 1 sees dimension k's changed bin: its Q-values move.
          if (k + 1 < N) expect(out[h]![i]![k + 1]).not.toEqual(base[h]![i]![k + 1]);
        }
      }
    }
    obs.dispose();
    q.dispose();
  });

  it("picks greedy bins one dimension at a time, honouring replacements", () => {
    const rng = new Rng(4);
    const q = new QTransformer("qt", 3, new ActionBins(box(-1, 1, [3]), 5), cfg, rng);
    randomize(q, rng);
    const obs = tf.tensor2d(rng.fillNormal(new Float32Array(6), 0, 1), [2, 3]);
    const g = q.greedyBins(obs);
    // Dimension 0's choice is the argmax of position 0.
    const q0 = tf.tidy(() => q.meanQ(obs, null).arraySync() as number[][][]);
    for (let i = 0; i < 2; i++) expect(g[i * 3]).toBe(q0[i]![0]!.indexOf(Math.max(...q0[i]![0]!)));
    // Every dimension is the argmax of a full pass over the greedy prefix.
    const full = tf.tidy(() => q.meanQ(obs, q.prefixIds(g, 2, 2)).arraySync() as number[][][]);
    for (let i = 0; i < 2; i++) for (let k = 0; k < 3; k++) expect(g[i * 3 + k]).toBe(full[i]![k]!.indexOf(Math.max(...full[i]![k]!)));
    const forced = q.greedyBins(obs, (row, dim) => (dim === 1 ? row : null));
    expect([forced[1], forced[4]]).toEqual([0, 1]);
    obs.dispose();
    q.dispose();
  });
});

describe("QtLearner", () => {
  it("lowers its TD loss on a fixed batch and keeps the tensor count flat", () => {
    const rng = new Rng(5);
    const coder = new ActionBins(box(-1, 1, [2]), 5);
    const learner = new QtLearner({ ...cfg, lr: 3e-3, targetEvery: 1000 }, 4, coder, { double: true, huberDelta: 1 }, rng);
    const b = batch(16, 4, 2, rng);
    const first = learner.update(b, b.weights, 1);
    expect(first.tdError.length).toBe(16);
    // Q starts at 0: the last dimension's TD error is the n-step return itself.
    expect(Array.from(first.tdError)).toEqual(Array.from(b.returns).map((r) => Math.fround(r)));
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 30; i++) last = learner.update(b, b.weights, 1);
    expect(tf.memory().numTensors).toBe(before);
    expect(last.scalars["qt/td_loss"]!).toBeLessThan(first.scalars["qt/td_loss"]!);
    // Twin heads: the spread of their TD errors is half their Q difference, zero at the zero-initialised start.
    expect(Array.from(first.tdStd!)).toEqual(new Array(16).fill(0));
    expect(last.tdStd).toHaveLength(16);
    expect(Math.max(...last.tdStd!)).toBeGreaterThan(0);
    const withC = learner.update(b, b.weights, 1, { target: new Float32Array(16).fill(1), weight: 0.5 });
    expect(withC.scalars["qt/consistency_loss"]).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
    learner.dispose();
  });

  it("trains a discrete QT as one step over the actions", () => {
    const rng = new Rng(6);
    const learner = new QtLearner(cfg, 4, new ActionBins(discrete(3), 5), { double: false, huberDelta: 1 }, rng);
    const b = batch(8, 4, 1, rng, Int32Array.from({ length: 8 }, (_, i) => i % 3));
    const r = learner.update(b, b.weights, 1);
    expect(r.tdError.length).toBe(8);
    expect(Number.isFinite(r.scalars["qt/td_loss"]!)).toBe(true);
    learner.dispose();
  });
});
