/**
 * The libtorch backend against tfjs's cpu backend: every kernel the addon implements, forward values and
 * gradients through tfjs's tape, memory, errors. Runs when the addon is built (`npm run build:native`; CI
 * builds it before its libtorch pass) and is skipped otherwise.
 */
import * as tf from "@tensorflow/tfjs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../src/backend/index.js";
import { loadAddon } from "../../src/backend/libtorch/addon.js";
import { ENCODED_KERNELS } from "../../src/backend/libtorch/backend.js";
import { Rng } from "../../src/core/rng.js";
import { activationGradFused, adamFused, geluFused, layerNormFused, layerNormGradFused } from "../../src/nets/fused.js";
import { Adam } from "../../src/nets/optim.js";
import { CausalSelfAttention, PositionEmbedding, Transformer } from "../../src/nets/layers.js";
import { KvCache } from "../../src/agents/tdm/incremental.js";

const addon = loadAddon();
const built = "addon" in addon;

/** A case builds its inputs from plain arrays (so both backends get the same values) and returns outputs. */
type Case = [name: string, f: () => tf.Tensor | tf.Tensor[]];

const rng = new Rng(7);
const rand = (shape: number[], lo = -2, hi = 2) => Array.from(rng.fillUniform(new Float32Array(shape.reduce((a, b) => a * b, 1)), lo, hi));
const f32 = (shape: number[], lo?: number, hi?: number) => {
  const v = rand(shape, lo, hi);
  return () => tf.tensor(v, shape, "float32");
};
const i32 = (values: number[], shape = [values.length]) => () => tf.tensor(values, shape, "int32");
const boolT = (values: boolean[]) => () => tf.tensor1d(values, "bool");

const A = f32([3, 4]);
const B = f32([3, 4]);
const row = f32([4]);
const pos = f32([3, 4], 0.1, 3);
const M = f32([2, 3, 5]);
const N = f32([2, 5, 4]);
const W = f32([5, 4]);
const bias = f32([4]);
const ints = i32([3, -7, 4, 0, 9, -2]);
const ints2 = i32([2, 3, -3, 5, 4, 1]);
const withNaN = () => tf.tensor1d([1, -1, 0, NaN, Infinity, -Infinity, 2.5, -0.5]);

const CASES: Case[] = [
  ["Add", () => tf.add(A(), row())],
  ["Add int32", () => tf.add(ints(), ints2())],
  ["Sub", () => tf.sub(A(), B())],
  ["Multiply", () => tf.mul(A(), 0.5)],
  ["RealDiv", () => tf.div(A(), pos())],
  ["FloorDiv", () => tf.floorDiv(ints(), ints2())],
  ["Mod", () => tf.mod(A(), pos())],
  ["Maximum", () => tf.maximum(A(), B())],
  ["Minimum", () => tf.minimum(A(), row())],
  ["Pow", () => tf.pow(pos(), B())],
  ["SquaredDifference", () => tf.squaredDifference(A(), B())],
  ["Atan2", () => tf.atan2(A(), B())],
  ["Equal", () => tf.equal(ints(), ints2())],
  ["NotEqual", () => tf.notEqual(A(), A())],
  ["Less", () => tf.less(A(), B())],
  ["LessEqual", () => tf.lessEqual(A(), row())],
  ["Greater", () => tf.greater(A(), B())],
  ["GreaterEqual", () => tf.greaterEqual(A(), B())],
  ["LogicalAnd", () => tf.logicalAnd(boolT([true, false, true, false])(), boolT([true, true, false, false])())],
  ["LogicalOr", () => tf.logicalOr(boolT([true, false, true, false])(), boolT([true, true, false, false])())],
  ["Abs", () => tf.abs(A())],
  ["Neg", () => tf.neg(A())],
  ["Exp", () => tf.exp(A())],
  ["Expm1", () => tf.expm1(A())],
  ["Log", () => tf.log(pos())],
  ["Log1p", () => tf.log1p(pos())],
  ["Sqrt", () => tf.sqrt(pos())],
  ["Rsqrt", () => tf.rsqrt(pos())],
  ["Square", () => tf.square(A())],
  ["Reciprocal", () => tf.reciprocal(pos())],
  ["Tanh", () => tf.tanh(A())],
  ["Sigmoid", () => tf.sigmoid(A())],
  ["Relu", () => tf.relu(A())],
  ["Relu6", () => tf.relu6(tf.mul(A(), 5))],
  ["Elu", () => tf.elu(A())],
  ["Selu", () => tf.selu(A())],
  ["Softplus", () => tf.softplus(A())],
  ["Erf", () => tf.erf(A())],
  ["Sign", () => tf.sign(withNaN())],
  ["Floor", () => tf.floor(A())],
  ["Ceil", () => tf.ceil(A())],
  ["Round", () => tf.round(tf.tensor1d([0.5, 1.5, 2.5, -0.5, -1.5, 1.2, -2.7]))],
  ["Sin", () => tf.sin(A())],
  ["Cos", () => tf.cos(A())],
  ["IsNan", () => tf.isNaN(withNaN())],
  ["IsInf", () => tf.isInf(withNaN())],
  ["IsFinite", () => tf.isFinite(withNaN())],
  ["LogicalNot", () => tf.logicalNot(boolT([true, false])())],
  ["Step", () => tf.step(withNaN(), 0.25)],
  ["LeakyRelu", () => tf.leakyRelu(A(), 0.1)],
  ["Prelu", () => tf.prelu(A(), row())],
  ["ClipByValue", () => tf.clipByValue(A(), -0.5, 0.75)],
  ["Cast float→int32", () => tf.cast(tf.mul(A(), 3), "int32")],
  ["Cast int32→bool", () => tf.cast(ints(), "bool")],
  ["Cast bool→float32", () => tf.cast(boolT([true, false])(), "float32")],
  ["Identity", () => tf.clone(A())],
  ["Reshape", () => tf.reshape(M(), [5, -1])],
  ["ExpandDims (a Reshape)", () => [tf.expandDims(M(), 1), tf.expandDims(A(), -1)]],
  ["Transpose", () => tf.transpose(M(), [2, 0, 1])],
  ["Transpose then Reshape", () => tf.reshape(tf.transpose(A()), [2, 6])],
  ["Sum", () => tf.sum(M(), [0, 2])],
  ["Sum all", () => tf.sum(M())],
  ["Sum int32 keepDims", () => tf.sum(tf.reshape(ints(), [2, 3]), 1, true)],
  ["Mean", () => tf.mean(M(), -1)],
  ["Max", () => tf.max(M(), 1, true)],
  ["Min", () => tf.min(M(), [0, 1])],
  ["Prod", () => tf.prod(M(), [0, 2])],
  ["All", () => tf.all(tf.greater(M(), -1.5), [1, 2])],
  ["Any", () => tf.any(tf.greater(M(), 1.5), 0)],
  ["ArgMax", () => tf.argMax(A(), 1)],
  ["ArgMax ties", () => tf.argMax(tf.tensor2d([[1, 3, 3], [2, 2, 0]]), 1)],
  ["ArgMin", () => tf.argMin(A(), 0)],
  ["Softmax", () => tf.softmax(M())],
  ["BatchMatMul", () => tf.matMul(M(), N())],
  ["BatchMatMul transposed", () => tf.matMul(N(), M(), true, true)],
  ["BatchMatMul broadcast", () => tf.matMul(M(), W())],
  ["_FusedMatMul relu bias", () => tf.fused.matMul({ a: tf.reshape(M(), [6, 5]), b: W(), bias: bias(), activation: "relu" })],
  ["_FusedMatMul leakyrelu", () => tf.fused.matMul({ a: tf.reshape(M(), [6, 5]), b: W(), activation: "leakyrelu", leakyreluAlpha: 0.3 })],
  ["_FusedMatMul prelu transposeB", () => tf.fused.matMul({ a: tf.reshape(M(), [6, 5]), b: tf.transpose(W()), transposeB: true, bias: bias(), activation: "prelu", preluActivationWeights: row() })],
  ["_FusedMatMul batched sigmoid", () => tf.fused.matMul({ a: M(), b: N(), bias: bias(), activation: "sigmoid" })],
  ["Slice", () => tf.slice(M(), [1, 0, 2], [1, -1, 2])],
  ["StridedSlice", () => tf.stridedSlice(M(), [0, 1, 0], [2, 3, 5], [1, 1, 2])],
  ["Concat", () => tf.concat([A(), B()], 1)],
  ["Pack", () => tf.stack([A(), B()], 1)],
  ["Unpack", () => tf.unstack(M(), 2)],
  ["SplitV", () => tf.split(M(), [2, -1], 2)],
  ["Tile", () => tf.tile(A(), [2, 3])],
  ["PadV2", () => tf.pad(M(), [[0, 1], [2, 0], [1, 1]], 0.5)],
  ["Reverse", () => tf.reverse(M(), [0, 2])],
  ["GatherV2", () => tf.gather(M(), i32([2, 0, 1, 1], [2, 2])(), 1)],
  ["OneHot", () => tf.oneHot(i32([0, 3, -1, 2, 9])(), 4, 2, -1)],
  ["OneHot float32", () => tf.oneHot(i32([1, 0, 7, 3], [2, 2])(), 4, 1.5, 0.25, "float32")],
  ["Fill", () => tf.fill([2, 3], 1.5)],
  ["ZerosLike", () => tf.zerosLike(ints())],
  ["OnesLike", () => tf.onesLike(A())],
  ["Range", () => tf.range(-1, 2, 0.25)],
  ["Select", () => tf.where(tf.greater(A(), 0), A(), B())],
  ["Cumsum", () => tf.cumsum(A(), 1)],
  ["Cumsum exclusive reverse", () => tf.cumsum(A(), 0, true, true)],
  ["AddN", () => tf.addN([A(), B(), A()])],
];

async function runOn(backend: "cpu" | "libtorch", f: () => tf.Tensor | tf.Tensor[]) {
  await selectBackend(backend);
  return tf.tidy(() => {
    const out = f();
    return (Array.isArray(out) ? out : [out]).map((t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync() as ArrayLike<number>) }));
  });
}

function expectClose(ours: number[], ref: number[], rel = 1e-5) {
  expect(ours.length).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    const a = ours[i]!;
    const b = ref[i]!;
    if (Number.isNaN(b) || !Number.isFinite(b)) expect(a).toBe(b);
    else expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(b)));
  }
}

describe.skipIf(!built)("libtorch backend", () => {
  const ran = new Set<string>();
  const engine = tf.engine() as unknown as { runKernel: (name: string, ...rest: unknown[]) => unknown };
  const runKernel = engine.runKernel;

  beforeAll(() => {
    engine.runKernel = function (this: unknown, name: string, ...rest: unknown[]) {
      if (tf.getBackend() === "libtorch") ran.add(name);
      return runKernel.call(this, name, ...rest);
    };
  });
  afterAll(async () => {
    engine.runKernel = runKernel;
    await selectBackend("cpu");
  });

  it.each(CASES)("%s matches the cpu backend", async (_, f) => {
    const ref = await runOn("cpu", f);
    const ours = await runOn("libtorch", f);
    expect(ours.map((o) => [o.shape, o.dtype])).toEqual(ref.map((o) => [o.shape, o.dtype]));
    ours.forEach((o, i) => expectClose(o.values, ref[i]!.values));
  });

  it("gradients through tfjs's tape match the cpu backend", async () => {
    const x = rand([4, 5]);
    const w = rand([5, 3]);
    const loss = (xs: tf.Tensor, ws: tf.Tensor) => {
      const h = tf.fused.matMul({ a: xs as tf.Tensor2D, b: ws as tf.Tensor2D, activation: "relu" });
      const z = tf.concat([tf.softmax(h), tf.tanh(tf.matMul(xs, ws))], 1);
      return tf.sum(tf.mul(tf.square(tf.sub(z, 0.3)), tf.sigmoid(tf.max(h, 1, true))));
    };
    const grads = async (backend: "cpu" | "libtorch") => {
      await selectBackend(backend);
      return tf.tidy(() => tf.grads(loss)([tf.tensor2d(x, [4, 5]), tf.tensor2d(w, [5, 3])]).map((g) => Array.from(g.dataSync())));
    };
    const ref = await grads("cpu");
    const ours = await grads("libtorch");
    ours.forEach((g, i) => expectClose(g, ref[i]!, 1e-5));
  });

  it("fused layer norm and its gradient match the composed ops on cpu", async () => {
    const xv = rand([6, 8]);
    const gv = rand([8], 0.5, 1.5);
    const bv = rand([8]);
    const dyv = rand([6, 8]);
    const composed = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
    };
    await selectBackend("cpu");
    const ref = tf.tidy(() => {
      const args = [tf.tensor2d(xv, [6, 8]), tf.tensor1d(gv), tf.tensor1d(bv)];
      const y = composed(args[0]!, args[1]!, args[2]!);
      const grads = tf.grads((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(composed(x, g, b), tf.tensor2d(dyv, [6, 8]))))(args);
      return [y, ...grads].map((t) => Array.from(t.dataSync()));
    });
    await selectBackend("libtorch");
    const ours = tf.tidy(() => {
      const x = tf.tensor2d(xv, [6, 8]);
      const g = tf.tensor1d(gv);
      const [y, mean, rstd] = layerNormFused(x, g, tf.tensor1d(bv), 1e-5);
      return [y, ...layerNormGradFused(tf.tensor2d(dyv, [6, 8]), x, mean, rstd, g)].map((t) => Array.from(t.dataSync()));
    });
    ours.forEach((o, i) => expectClose(o, ref[i]!, 1e-4));
  });

  it.each(["relu", "leaky_relu", "tanh", "gelu"] as const)("fused %s gradient matches tfjs's on cpu", async (act) => {
    const zv = rand([5, 7]);
    const dyv = rand([5, 7]);
    const f = (z: tf.Tensor) =>
      act === "relu" ? tf.relu(z) : act === "leaky_relu" ? tf.leakyRelu(z, 0.01) : act === "tanh" ? tf.tanh(z) : tf.mul(tf.mul(z, 0.5), tf.add(tf.erf(tf.mul(z, Math.SQRT1_2)), 1));
    await selectBackend("cpu");
    const ref = tf.tidy(() => Array.from(tf.grad((z: tf.Tensor) => tf.sum(tf.mul(f(z), tf.tensor2d(dyv, [5, 7]))))(tf.tensor2d(zv, [5, 7])).dataSync()));
    await selectBackend("libtorch");
    const ours = tf.tidy(() => {
      const z = tf.tensor2d(zv, [5, 7]);
      return Array.from(activationGradFused(tf.tensor2d(dyv, [5, 7]), act === "gelu" ? z : f(z), act, 0.01).dataSync());
    });
    expectClose(ours, ref, 1e-5);
  });

  it("fused gelu matches the composed erf form on cpu", async () => {
    const zv = rand([5, 7], -8, 8);
    const f = (z: tf.Tensor) => tf.mul(tf.mul(z, 0.5), tf.add(tf.erf(tf.mul(z, Math.SQRT1_2)), 1));
    await selectBackend("cpu");
    const ref = tf.tidy(() => Array.from(f(tf.tensor2d(zv, [5, 7])).dataSync()));
    await selectBackend("libtorch");
    expectClose(tf.tidy(() => Array.from(geluFused(tf.tensor2d(zv, [5, 7])).dataSync())), ref, 1e-5);
  });

  it.each(["gelu", "relu"] as const)("the fused cached block (%s) decodes as the composed blocks on cpu", async (activation) => {
    // Same seeded init on both backends; tokens fed 3, 1, then 2 at a time (the chunk mask and the cache).
    const xv = rand([2, 6, 16]);
    const run = async (backend: "cpu" | "libtorch") => {
      await selectBackend(backend);
      const body = new Transformer("gpt", { layers: 2, dim: 16, heads: 4, activation }, new Rng(5));
      const pos = new PositionEmbedding("pos", 8, 16, new Rng(6));
      const x = tf.tensor3d(xv, [2, 6, 16]);
      const cache = new KvCache(body, pos);
      const out = [[0, 3], [3, 1], [4, 2]].map(([from, n]) => tf.tidy(() => Array.from(cache.feed(tf.slice(x, [0, from!, 0], [2, n!, 16])).dataSync())));
      cache.dispose();
      x.dispose();
      body.dispose();
      pos.dispose();
      return out.flat();
    };
    const ref = await run("cpu");
    const got = await run("libtorch");
    expect(ran.has("QttdmCachedBlock")).toBe(true);
    expectClose(got, ref, 1e-4);
  });

  it("fused causal attention and its gradients match the composed form on cpu (19 rows: a full and a padded block of lanes)", async () => {
    const xv = rand([19, 5, 8]);
    const rv = rand([19, 5, 8]);
    const run = async (backend: "cpu" | "libtorch") => {
      await selectBackend(backend);
      const attn = new CausalSelfAttention("attn", 8, 2, new Rng(7));
      const x = tf.variable(tf.tensor3d(xv, [19, 5, 8]));
      const vars = [x, ...attn.params().values()];
      const out = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(attn.apply(x as tf.Variable<tf.Rank.R3>), tf.tensor3d(rv, [19, 5, 8]))) as tf.Scalar, vars);
        return [Array.from(attn.apply(x as tf.Variable<tf.Rank.R3>).dataSync()), [value.dataSync()[0]!], ...vars.map((v) => Array.from(grads[v.name]!.dataSync()))];
      });
      attn.dispose();
      x.dispose();
      return out;
    };
    const ref = await run("cpu");
    const got = await run("libtorch");
    expect(ran.has("QttdmAttention") && ran.has("QttdmAttentionGrad")).toBe(true);
    got.forEach((g, i) => expectClose(g, ref[i]!, 1e-4));
  });

  it.each([true, false])("fused Adam matches the composed Adam on cpu (two groups, clipping, decoupled weight decay %s)", async (decoupled) => {
    const shapes = [[3, 4], [4], [2, 2]];
    const pv = shapes.map((sh) => rand(sh));
    const steps = [0, 1, 2].map(() => shapes.map((sh) => rand(sh, -20, 20)));
    const cfg = { lr: 0.01, clipNorm: 5, weightDecay: 0.1, decoupledWeightDecay: decoupled };
    // The composed optimiser on cpu.
    await selectBackend("cpu");
    const vars = pv.map((v, i) => tf.variable(tf.tensor(v, shapes[i]), true, `p${i}`));
    const opt = new Adam([{ name: "a", params: new Map([["w", vars[0]!], ["b", vars[1]!]]) }, { name: "b", params: new Map([["u", vars[2]!]]), weightDecay: 0 }], cfg);
    const refNorms = steps.map((gs) => tf.tidy(() => opt.apply(Object.fromEntries(gs.map((g, i) => [vars[i]!.name, tf.tensor(g, shapes[i])])))));
    const ref = vars.map((v) => Array.from(v.dataSync()));
    opt.dispose();
    tf.dispose(vars);
    // The fused kernel on libtorch, with the same arithmetic done by hand.
    await selectBackend("libtorch");
    let params = pv.map((v, i) => tf.tensor(v, shapes[i]));
    let m = [tf.zeros([16]) as tf.Tensor1D, tf.zeros([4]) as tf.Tensor1D];
    let v = [tf.zeros([16]) as tf.Tensor1D, tf.zeros([4]) as tf.Tensor1D];
    const norms: number[] = [];
    steps.forEach((gs, s) => {
      const t = s + 1;
      const grads = gs.map((g, i) => tf.tensor(g, shapes[i]));
      const r = adamFused(
        [
          { grads: grads.slice(0, 2), params: params.slice(0, 2), m: m[0]!, v: v[0]!, lr: 0.01, decay: decoupled ? 1 - 0.01 * 0.1 : 1, l2: decoupled ? 0 : 0.1 },
          { grads: grads.slice(2), params: params.slice(2), m: m[1]!, v: v[1]!, lr: 0.01, decay: 1, l2: 0 },
        ],
        { beta1: 0.9, beta2: 0.999, bc1: 1 - 0.9 ** t, invSqrtBc2: 1 / Math.sqrt(1 - 0.999 ** t), eps: 1e-8, clipNorm: 5 },
      );
      tf.dispose([...grads, ...params, ...m, ...v]);
      norms.push(r.norm.dataSync()[0]!);
      r.norm.dispose();
      params = r.groups.flatMap((g) => g.params);
      m = r.groups.map((g) => g.m);
      v = r.groups.map((g) => g.v);
    });
    expectClose(norms, refNorms, 1e-5);
    params.forEach((p, i) => expectClose(Array.from(p.dataSync()), ref[i]!, 1e-5));
    tf.dispose([...params, ...m, ...v]);
  });

  it("covers every kernel the addon implements", () => {
    const implemented = built ? addon.addon.opNames() : [];
    expect([...implemented].sort()).toEqual([...ENCODED_KERNELS].sort());
    expect(implemented.filter((k) => !ran.has(k))).toEqual([]);
  });

  it("frees tensors on dispose and counts their bytes", async () => {
    await selectBackend("libtorch");
    const before = tf.memory() as tf.MemoryInfo & { numBytesInLibtorch: number; numTensorsInLibtorch: number };
    const ids = tf.engine().backend.numDataIds();
    const t = tf.ones([256, 256]);
    const during = tf.memory() as typeof before;
    expect(during.numTensorsInLibtorch).toBe(before.numTensorsInLibtorch + 1);
    expect(during.numBytesInLibtorch - before.numBytesInLibtorch).toBe(256 * 256 * 4);
    expect(tf.engine().backend.numDataIds()).toBe(ids + 1);
    t.dispose();
    expect((tf.memory() as typeof before).numBytesInLibtorch).toBe(before.numBytesInLibtorch);
    expect(tf.engine().backend.numDataIds()).toBe(ids);
  });

  it("names the kernel it does not implement", async () => {
    await selectBackend("libtorch");
    expect(() => tf.conv2d(tf.ones([1, 3, 3, 1]) as tf.Tensor4D, tf.ones([2, 2, 1, 1]) as tf.Tensor4D, 1, "valid")).toThrow(
      /Kernel 'Conv2D' not registered for backend 'libtorch'/,
    );
  });

  it("takes tensors created on another backend", async () => {
    await selectBackend("cpu");
    const t = tf.tensor1d([1, 2, 3]);
    await selectBackend("libtorch");
    expect(Array.from(tf.mul(t, 2).dataSync())).toEqual([2, 4, 6]);
    t.dispose();
  });
});

describe("building the addon", () => {
  it("fails with one line naming the packages when libtorch is missing", () => {
    const script = path.resolve(import.meta.dirname, "../../native/libtorch.mjs");
    const r = spawnSync(process.execPath, [script, "check"], { encoding: "utf8", env: { ...process.env, LIBTORCH: "/nonexistent" } });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([
      "libtorch not found: LIBTORCH=/nonexistent has no include/ATen/ATen.h; install it with apt-get install -y libtorch-dev libopenblas0-pthread g++ (Debian), or set LIBTORCH to an unpacked libtorch",
    ]);
  });
});
