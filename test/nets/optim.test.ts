import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../src/backend/index.js";
import { ConfigError } from "../../src/core/errors.js";
import { Rng } from "../../src/core/rng.js";
import { Dense, Mlp } from "../../src/nets/layers.js";
import { splitFlat } from "../../src/nets/ops.js";
import { Adam } from "../../src/nets/optim.js";

beforeAll(async () => {
  await selectBackend("cpu");
});

/** Reference Adam (PyTorch semantics) on plain arrays, for one parameter vector. */
function refAdam(p: Float64Array, grads: Float64Array[], o: { lr: number; b1: number; b2: number; eps: number; wd: number; decoupled: boolean; clip: number | null }) {
  const m = new Float64Array(p.length);
  const v = new Float64Array(p.length);
  grads.forEach((g0, k) => {
    const t = k + 1;
    const g = Float64Array.from(g0, (x, i) => x + (o.decoupled ? 0 : o.wd * p[i]!));
    const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
    const coef = o.clip === null ? 1 : Math.min(1, o.clip / (norm + 1e-6));
    for (let i = 0; i < p.length; i++) {
      const gi = g[i]! * coef;
      m[i] = o.b1 * m[i]! + (1 - o.b1) * gi;
      v[i] = o.b2 * v[i]! + (1 - o.b2) * gi * gi;
      const mhat = m[i]! / (1 - o.b1 ** t);
      const denom = Math.sqrt(v[i]! / (1 - o.b2 ** t)) + o.eps;
      if (o.decoupled) p[i] = p[i]! * (1 - o.lr * o.wd);
      p[i] = p[i]! - (o.lr * mhat) / denom;
    }
  });
  return p;
}

describe("Adam", () => {
  for (const [label, cfg] of [
    ["plain with clipping", { lr: 0.01, weightDecay: 0, decoupledWeightDecay: true, clipNorm: 0.5 }],
    ["AdamW", { lr: 0.01, weightDecay: 0.1, decoupledWeightDecay: true, clipNorm: null }],
    ["L2 weight decay", { lr: 0.01, weightDecay: 0.1, decoupledWeightDecay: false, clipNorm: 1 }],
  ] as const) {
    it(`matches the PyTorch update rule: ${label}`, () => {
      const init = [0.5, -1, 2, 0.1];
      const p = tf.variable(tf.tensor1d(init));
      const opt = new Adam(new Map([["p", p]]), { ...cfg, beta1: 0.9, beta2: 0.99, eps: 1e-8 });
      const gs = [
        [1, 2, -3, 0.5],
        [0.1, -0.2, 0.3, 4],
        [2, 2, 2, 2],
      ];
      for (const g of gs) {
        const gt = tf.tensor1d(g);
        opt.apply({ [p.name]: gt });
        gt.dispose();
      }
      const ref = refAdam(Float64Array.from(init), gs.map((g) => Float64Array.from(g)), {
        lr: cfg.lr, b1: 0.9, b2: 0.99, eps: 1e-8, wd: cfg.weightDecay, decoupled: cfg.decoupledWeightDecay, clip: cfg.clipNorm,
      });
      const got = p.dataSync();
      for (let i = 0; i < init.length; i++) expect(got[i]).toBeCloseTo(ref[i]!, 5);
      expect(opt.updates).toBe(3);
      opt.dispose();
      p.dispose();
    });
  }

  it("reports the pre-clip global norm over all groups and clips jointly", () => {
    const a = tf.variable(tf.tensor1d([0, 0]));
    const b = tf.variable(tf.tensor1d([0]));
    const opt = new Adam([{ name: "a", params: new Map([["a", a]]) }, { name: "b", params: new Map([["b", b]]) }], { clipNorm: 1 });
    const ga = tf.tensor1d([3, 0]);
    const gb = tf.tensor1d([4]);
    expect(opt.apply({ [a.name]: ga, [b.name]: gb })).toBeCloseTo(5, 5);
    tf.dispose([a, b, ga, gb]);
    opt.dispose();
  });

  it("gives each parameter group its own learning rate and schedule", () => {
    const enc = tf.variable(tf.tensor1d([1]));
    const head = tf.variable(tf.tensor1d([1]));
    const opt = new Adam(
      [
        { name: "encoder", params: new Map([["enc", enc]]), lr: 0.001 },
        { name: "head", params: new Map([["head", head]]), lr: { kind: "linear", start: 0.1, end: 0.0, duration: 2 } },
      ],
      { clipNorm: null },
    );
    expect(opt.learningRate(1)).toBeCloseTo(0.1);
    const g = tf.tensor1d([1]);
    opt.apply({ [enc.name]: g, [head.name]: g });
    // First Adam step moves each parameter by its lr (m̂/√v̂ = 1).
    expect(1 - enc.dataSync()[0]!).toBeCloseTo(0.001, 6);
    expect(1 - head.dataSync()[0]!).toBeCloseTo(0.1, 5);
    expect(opt.learningRate(1)).toBeCloseTo(0.05);
    tf.dispose([enc, head, g]);
    opt.dispose();
  });

  it("step() minimises a regression loss and returns loss, grad norm and aux values", () => {
    const rng = new Rng(3);
    const net = new Mlp("net", 2, [16], 1, rng, { activation: "tanh" });
    const opt = new Adam(net.params(), { lr: 0.02 });
    const x = tf.tensor2d([[0, 0], [0, 1], [1, 0], [1, 1]]);
    const y = tf.tensor2d([[0], [1], [1], [0]]);
    let first = 0;
    let last = 0;
    for (let i = 0; i < 300; i++) {
      const r = opt.step(() => {
        const err = tf.sub(net.apply(x), y);
        return { loss: tf.mean(tf.square(err)) as tf.Scalar, aux: { err: tf.reshape(err, [-1]) } };
      });
      if (i === 0) {
        first = r.loss;
        expect(r.gradNorm).toBeGreaterThan(0);
        expect(r.aux.err).toHaveLength(4);
      }
      last = r.loss;
    }
    expect(last).toBeLessThan(first * 0.1);
    tf.dispose([x, y]);
    net.dispose();
    opt.dispose();
  });

  it("rejects a parameter in two groups and empty groups", () => {
    const d = new Dense("d", 2, 2, new Rng(1));
    expect(() => new Adam([{ name: "a", params: d.params() }, { name: "b", params: d.params() }])).toThrow(ConfigError);
    expect(() => new Adam([{ name: "a", params: new Map() }])).toThrow(/no parameters/);
    d.dispose();
  });
});

describe("wasm fast paths", () => {
  it("splitFlat on wasm returns the right pieces", async () => {
    await selectBackend("wasm");
    const x = tf.tensor1d([0, 1, 2, 3, 4, 5, 6]);
    const parts = splitFlat(x, [2, 4, 1]);
    expect(parts.map((p) => Array.from(p.dataSync()))).toEqual([[0, 1], [2, 3, 4, 5], [6]]);
    tf.dispose([x, ...parts]);
    await selectBackend("cpu");
  });

  it("Adam gives the same parameters on wasm as on cpu", async () => {
    const run = async (backend: "cpu" | "wasm") => {
      await selectBackend(backend);
      const net = new Mlp("net", 3, [5], 2, new Rng(9));
      const opt = new Adam([{ name: "body", params: new Map([...net.params()].slice(0, 2)) }, { name: "head", params: new Map([...net.params()].slice(2)), lr: 0.05 }], { lr: 0.01, weightDecay: 0.01 });
      const x = tf.tensor2d([[1, -2, 0.5], [0.3, 0.1, -1]]);
      for (let i = 0; i < 5; i++) opt.step(() => tf.mean(tf.square(net.apply(x))) as tf.Scalar);
      const out = [...net.params().values()].map((v) => Array.from(v.dataSync()));
      net.dispose();
      opt.dispose();
      x.dispose();
      return out;
    };
    const cpu = await run("cpu");
    const wasm = await run("wasm");
    await selectBackend("cpu");
    cpu.forEach((a, i) => a.forEach((v, j) => expect(wasm[i]![j]).toBeCloseTo(v, 5)));
  });
});
