/**
 * Finite-difference checks of the hand-written gradients (cpu backend, float32, central differences with
 * step 1e-2 on smooth functions), and exact comparisons against tfjs autodiff of plain-op references.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../src/backend/index.js";
import { Rng } from "../../src/core/rng.js";
import { CausalSelfAttention, Mlp, TransformerBlock } from "../../src/nets/layers.js";
import { dense, denseStack, embeddingLookup, gelu, layerNorm, matMul, type Activation } from "../../src/nets/ops.js";
import { gradCheck, randn } from "./helpers.js";

beforeAll(async () => {
  await selectBackend("cpu");
});

/** sum(f(...) ⊙ R) with a fixed random R: a scalar whose gradient exercises every output. */
function projected(out: tf.Tensor, seed: number): tf.Scalar {
  const r = tf.tidy(() => randn(out.shape, new Rng(seed)));
  const l = tf.sum(tf.mul(out, r)) as tf.Scalar;
  r.dispose();
  return l;
}

describe("dense (fused, custom gradient)", () => {
  for (const act of ["linear", "tanh", "gelu", "leaky_relu"] as Activation[]) {
    it(`matches finite differences for ${act}`, () => {
      const rng = new Rng(1);
      const x = tf.variable(randn([5, 4], rng));
      const w = tf.variable(randn([4, 3], rng, 0.5));
      const b = tf.variable(randn([3], rng, 0.1));
      const { worst, where } = gradCheck(() => projected(dense(x, w as tf.Variable<tf.Rank.R2>, b as tf.Variable<tf.Rank.R1>, act), 7), [x, w, b], rng);
      expect(worst, where).toBeLessThanOrEqual(0);
      tf.dispose([x, w, b]);
    });
  }

  it("relu stack equals tfjs autodiff of plain ops, with and without input gradient, and without parameter gradients", () => {
    const rng = new Rng(2);
    const x = tf.variable(randn([6, 5], rng));
    const ws = [randn([5, 7], rng), randn([7, 7], rng), randn([7, 2], rng)].map((t) => tf.variable(t) as tf.Variable<tf.Rank.R2>);
    const bs = [randn([7], rng), randn([7], rng), randn([2], rng)].map((t) => tf.variable(t) as tf.Variable<tf.Rank.R1>);
    const acts: Activation[] = ["relu", "relu", "linear"];
    const ours = (inputGrad: boolean) => () =>
      projected(denseStack(x as tf.Variable<tf.Rank.R2>, ws.map((w, i) => ({ w, b: bs[i]!, act: acts[i]! })), inputGrad), 3);
    const ref = () => {
      let h: tf.Tensor = x;
      ws.forEach((w, i) => {
        h = tf.add(tf.matMul(h, w), bs[i]!);
        if (acts[i] === "relu") h = tf.relu(h);
      });
      return projected(h, 3);
    };
    const all = [x, ...ws, ...bs];
    const a = tf.variableGrads(ours(true), all);
    const r = tf.variableGrads(ref, all);
    for (const v of all) expect(tf.max(tf.abs(tf.sub(a.grads[v.name]!, r.grads[v.name]!))).dataSync()[0]).toBeLessThan(1e-4);
    const noX = tf.variableGrads(ours(false), [...ws, ...bs]);
    for (const v of [...ws, ...bs]) expect(tf.max(tf.abs(tf.sub(noX.grads[v.name]!, r.grads[v.name]!))).dataSync()[0]).toBeLessThan(1e-4);
    // Parameters closed over (paramGrad false): the input gradient alone, the same as autodiff's.
    const onlyX = tf.variableGrads(() => projected(denseStack(x as tf.Variable<tf.Rank.R2>, ws.map((w, i) => ({ w, b: bs[i]!, act: acts[i]! })), true, false), 3), [x]);
    expect(tf.max(tf.abs(tf.sub(onlyX.grads[x.name]!, r.grads[x.name]!))).dataSync()[0]).toBeLessThan(1e-4);
    expect(onlyX.value.dataSync()[0]).toBeCloseTo(r.value.dataSync()[0]!, 5);
    tf.dispose([a.value, r.value, noX.value, onlyX.value, ...Object.values(a.grads), ...Object.values(r.grads), ...Object.values(noX.grads), ...Object.values(onlyX.grads), ...all]);
  });

  it("accepts rank-3 inputs", () => {
    const rng = new Rng(3);
    const x = tf.variable(randn([2, 3, 4], rng));
    const w = tf.variable(randn([4, 5], rng)) as tf.Variable<tf.Rank.R2>;
    const b = tf.variable(randn([5], rng)) as tf.Variable<tf.Rank.R1>;
    expect(dense(x, w, b, "gelu").shape).toEqual([2, 3, 5]);
    const { worst, where } = gradCheck(() => projected(dense(x, w, b, "gelu"), 4), [x, w, b], rng);
    expect(worst, where).toBeLessThanOrEqual(0);
    tf.dispose([x, w, b]);
  });
});

describe("other custom-gradient ops", () => {
  it("batched matMul matches finite differences", () => {
    const rng = new Rng(4);
    const a = tf.variable(randn([2, 3, 4, 5], rng));
    const b = tf.variable(randn([2, 3, 5, 2], rng));
    const { worst, where } = gradCheck(() => projected(matMul(a, b), 5), [a, b], rng);
    expect(worst, where).toBeLessThanOrEqual(0);
    tf.dispose([a, b]);
  });

  it("layer norm matches finite differences", () => {
    const rng = new Rng(5);
    const x = tf.variable(randn([2, 3, 6], rng, 2));
    const g = tf.variable(tf.add(1, randn([6], rng, 0.3))) as tf.Variable<tf.Rank.R1>;
    const b = tf.variable(randn([6], rng, 0.3)) as tf.Variable<tf.Rank.R1>;
    const { worst, where } = gradCheck(() => projected(layerNorm(x, g, b), 6), [x, g, b], rng, { coords: 10 });
    expect(worst, where).toBeLessThanOrEqual(0);
    // Forward: zero mean, unit variance before the affine part.
    const y = layerNorm(x, tf.onesLike(g) as tf.Tensor1D, tf.zerosLike(b) as tf.Tensor1D);
    const mean = tf.mean(y, -1).dataSync();
    for (const m of mean) expect(Math.abs(m)).toBeLessThan(1e-5);
    tf.dispose([x, g, b, y]);
  });

  it("gelu matches finite differences and the erf formula", () => {
    const rng = new Rng(6);
    const x = tf.variable(randn([10], rng, 2));
    const { worst, where } = gradCheck(() => projected(gelu(x), 8), [x], rng, { coords: 10 });
    expect(worst, where).toBeLessThanOrEqual(0);
    expect(gelu(tf.tensor1d([1])).dataSync()[0]).toBeCloseTo(0.8413447, 5);
    x.dispose();
  });

  it("embedding lookup returns table rows and scatters gradients to them", () => {
    const rng = new Rng(7);
    const table = tf.variable(randn([5, 3], rng)) as tf.Variable<tf.Rank.R2>;
    const ids = tf.tensor2d([[0, 4], [4, 2]], [2, 2], "int32");
    const y = embeddingLookup(ids, table);
    expect(y.shape).toEqual([2, 2, 3]);
    expect(Array.from(y.dataSync().slice(3, 6))).toEqual(Array.from(table.dataSync().slice(12, 15)));
    const { grads } = tf.variableGrads(() => tf.sum(embeddingLookup(ids, table)) as tf.Scalar, [table]);
    expect(Array.from(grads[table.name]!.dataSync())).toEqual([1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 2, 2, 2]);
    tf.dispose([table, ids, y, ...Object.values(grads)]);
  });
});

describe("attention and transformer block", () => {
  it("causal self-attention matches finite differences for input and parameters", () => {
    const rng = new Rng(8);
    const attn = new CausalSelfAttention("attn", 8, 2, rng);
    const x = tf.variable(randn([2, 4, 8], rng));
    const vars = [x, ...attn.params().values()];
    const { worst, where } = gradCheck(() => projected(attn.apply(x as tf.Variable<tf.Rank.R3>), 9), vars, rng, { coords: 4 });
    expect(worst, where).toBeLessThanOrEqual(0);
    attn.dispose();
    x.dispose();
  });

  it("is causal: outputs at step t do not depend on inputs after t", () => {
    const rng = new Rng(9);
    const attn = new CausalSelfAttention("attn", 8, 2, rng);
    const x = randn([1, 5, 8], rng);
    const y1 = attn.apply(x as tf.Tensor3D).dataSync();
    const x2 = tf.concat([tf.slice(x, [0, 0, 0], [1, 3, 8]), randn([1, 2, 8], rng)], 1);
    const y2 = attn.apply(x2 as tf.Tensor3D).dataSync();
    for (let i = 0; i < 3 * 8; i++) expect(y2[i]).toBeCloseTo(y1[i]!, 5);
    expect(Math.abs(y2[4 * 8]! - y1[4 * 8]!)).toBeGreaterThan(1e-6);
    attn.dispose();
  });

  it("transformer block (pre-LN, GELU MLP) matches finite differences", () => {
    const rng = new Rng(10);
    const blk = new TransformerBlock("blk", 8, 2, rng);
    const x = tf.variable(randn([2, 3, 8], rng));
    const vars = [x, ...blk.params().values()];
    const { worst, where } = gradCheck(() => projected(blk.apply(x as tf.Variable<tf.Rank.R3>), 11), vars, rng, { coords: 3 });
    expect(worst, where).toBeLessThanOrEqual(0);
    blk.dispose();
    x.dispose();
  });
});

describe("layer-normed MLP", () => {
  for (const activation of ["tanh", "gelu"] as const) {
    it(`matches finite differences for ${activation}, input and parameters`, () => {
      const rng = new Rng(13);
      const mlp = new Mlp("q", 5, [6, 7], 3, rng, { activation, layerNorm: true });
      const x = tf.variable(randn([4, 5], rng));
      const vars = [x, ...mlp.params().values()];
      const { worst, where } = gradCheck(() => projected(mlp.apply(x), 14), vars, rng, { coords: 3 });
      expect(worst, where).toBeLessThanOrEqual(0);
      mlp.dispose();
      x.dispose();
    });
  }

  it("relu: equals tfjs autodiff of plain ops (finite differences would straddle the kinks)", () => {
    const rng = new Rng(15);
    const mlp = new Mlp("q", 5, [6, 7], 3, rng, { layerNorm: true });
    const x = tf.variable(randn([4, 5], rng));
    const vars = [x, ...mlp.params().values()];
    const plain = (): tf.Scalar => {
      let h: tf.Tensor = x;
      mlp.layers.forEach((layer, i) => {
        h = tf.add(tf.matMul(h as tf.Tensor2D, layer.kernel), layer.bias!);
        const norm = mlp.norms[i];
        if (norm) {
          const { mean, variance } = tf.moments(h, -1, true);
          h = tf.relu(tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-5))), norm.gamma), norm.beta));
        }
      });
      return projected(h, 16);
    };
    const ours = tf.variableGrads(() => projected(mlp.apply(x), 16), vars);
    const ref = tf.variableGrads(plain, vars);
    expect(ours.value.dataSync()[0]).toBeCloseTo(ref.value.dataSync()[0]!, 4);
    for (const v of vars) {
      const a = ours.grads[v.name]!.dataSync();
      const b = ref.grads[v.name]!.dataSync();
      for (let i = 0; i < a.length; i++) expect(a[i], `${v.name}[${i}]`).toBeCloseTo(b[i]!, 4);
    }
    tf.dispose([ours.value, ref.value, ours.grads, ref.grads]);
    mlp.dispose();
    x.dispose();
  });
});

describe("backends agree", () => {
  it("a transformer block and an MLP give the same loss and gradients on wasm as on cpu", async () => {
    const rng = new Rng(12);
    const blk = new TransformerBlock("blk", 8, 2, rng, { activation: "gelu" });
    const x = tf.variable(randn([2, 3, 8], rng));
    const ws = [tf.variable(randn([8, 6], rng)), tf.variable(randn([6, 2], rng))] as tf.Variable<tf.Rank.R2>[];
    const vars = [x, ...blk.params().values(), ...ws];
    const loss = () => {
      const h = blk.apply(x as tf.Variable<tf.Rank.R3>);
      const y = denseStack(tf.reshape(h, [-1, 8]) as tf.Tensor2D, [{ w: ws[0]!, b: null, act: "relu" }, { w: ws[1]!, b: null, act: "linear" }]);
      return projected(y, 13);
    };
    const read = () => {
      const { value, grads } = tf.variableGrads(loss, vars);
      const out = { loss: value.dataSync()[0]!, grads: vars.map((v) => Array.from(grads[v.name]!.dataSync())) };
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const onCpu = read();
    await selectBackend("wasm");
    const onWasm = read();
    await selectBackend("cpu");
    expect(onWasm.loss).toBeCloseTo(onCpu.loss, 3);
    onCpu.grads.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(onWasm.grads[i]![j]! - v)).toBeLessThan(1e-3 * (1 + Math.abs(v)))));
    blk.dispose();
    tf.dispose(vars);
  });
});
