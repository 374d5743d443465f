/**
 * The wasm kernels of src/backend/wasm-matmul.ts against the cpu backend: every transpose combination,
 * ranks 2–4, broadcast batch dims, tile remainders, k blocking, fused bias and activations, gradients,
 * the Transpose and Identity kernels, the kernels of nets/fused.ts against the composed ops, and no tensor
 * or wasm-memory leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { forcedBackend, selectBackend } from "../../src/backend/index.js";
import { installWasmKernels } from "../../src/backend/wasm-matmul.js";
import { Rng } from "../../src/core/rng.js";
import { activationGradFused, adamFused, geluFused, hasFused, layerNormFused, layerNormGradFused } from "../../src/nets/fused.js";
import { Adam } from "../../src/nets/optim.js";

// These tests select wasm and cpu by name, which QTTDM_BACKEND would override.
const forced = forcedBackend() !== null;

type Spec = { shape: number[]; seed: number; dtype?: "float32" | "int32" };

function values({ shape, seed, dtype }: Spec): Float32Array | Int32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const rng = new Rng(seed);
  if (dtype === "int32") return Int32Array.from({ length: n }, () => rng.integers(-50, 50));
  return rng.fillNormal(new Float32Array(n)) as Float32Array;
}

type Fn = (...t: tf.Tensor[]) => tf.Tensor | tf.Tensor[];

/** Run `f` on fresh tensors of `inputs` with the given backend; returns every output's values and shape. */
async function on(backend: "cpu" | "wasm", inputs: Spec[], f: Fn) {
  await selectBackend(backend);
  const ts = inputs.map((s) => tf.tensor(values(s), s.shape, s.dtype ?? "float32"));
  const out = tf.tidy(() => {
    const r = f(...ts);
    return Array.isArray(r) ? r : [r];
  });
  const res = out.map((t) => ({ shape: t.shape, data: t.dataSync().slice() }));
  tf.dispose([...ts, ...out]);
  return res;
}

/** f on wasm equals `reference` (default f) on cpu within `rtol` relative to the output's largest magnitude. */
async function expectSame(inputs: Spec[], f: Fn, rtol = 1e-4, reference: Fn = f) {
  const ref = await on("cpu", inputs, reference);
  const got = await on("wasm", inputs, f);
  expect(got.length).toBe(ref.length);
  ref.forEach((r, i) => {
    const g = got[i]!;
    expect(g.shape).toEqual(r.shape);
    let scale = 1;
    for (const v of r.data) scale = Math.max(scale, Math.abs(v));
    let worst = 0;
    r.data.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - g.data[j]!))));
    expect(worst / scale, `output ${i} of shape [${r.shape}]`).toBeLessThanOrEqual(rtol);
  });
}

const spec = (shape: number[], seed: number): Spec => ({ shape, seed });

/** Shapes of a·b (before transposes) with their batch dims; m, k, n leave tile remainders (4×8 tiles). */
const PRODUCTS: [string, number[], number[]][] = [
  ["2-D", [13, 9], [9, 11]],
  ["rank 3 batched", [4, 13, 9], [4, 9, 11]],
  ["rank 3 × 2-D (batch folded into rows)", [4, 13, 9], [9, 11]],
  ["2-D × rank 3 (left broadcast)", [13, 9], [4, 9, 11]],
  ["rank 4 batched (attention-like)", [2, 3, 16, 32], [2, 3, 32, 16]],
  ["rank 4, batch dims broadcast both ways", [2, 1, 5, 7], [1, 3, 7, 6]],
  ["rank 3 × rank 4 broadcast", [3, 5, 7], [2, 1, 7, 6]],
  ["k blocked (B panel over 1 MB)", [9, 1030], [1030, 300]],
  ["B packed in panels of 8 (48+ rows), k blocked", [60, 1030], [1030, 300]],
  ["B packed, one panel", [50, 20], [20, 8]],
  ["matrix-vector", [1, 64], [64, 33]],
  ["one column", [17, 5], [5, 1]],
];

const swapLast = (shape: number[]) => [...shape.slice(0, -2), shape[shape.length - 1]!, shape[shape.length - 2]!];

/**
 * The cpu reference of a batched product: operands broadcast to the output's batch dims first, because
 * tfjs's cpu kernel pairs batches modulo their counts ([2,1]×[1,3] would pair a[q % 2] with b[q % 3]).
 */
function referenceMatMul(x: tf.Tensor, y: tf.Tensor, ta: boolean, tb: boolean): tf.Tensor {
  const batch = tf.broadcast_util.assertAndGetBroadcastShape(x.shape.slice(0, -2), y.shape.slice(0, -2));
  const full = (t: tf.Tensor) => (batch.length ? tf.broadcastTo(t, [...batch, ...t.shape.slice(-2)]) : t);
  return tf.matMul(full(x), full(y), ta, tb);
}

beforeAll(async () => {
  await selectBackend("wasm");
});

describe.skipIf(forced)("installWasmKernels", () => {
  it("is installed by selectBackend('wasm') and idempotent", () => {
    const before = tf.getKernel("BatchMatMul", "wasm")!.kernelFunc;
    expect(installWasmKernels()).toBe(true);
    expect(tf.getKernel("BatchMatMul", "wasm")!.kernelFunc).toBe(before);
  });
});

describe.skipIf(forced)("BatchMatMul on wasm equals cpu", () => {
  for (const [label, as, bs] of PRODUCTS) {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      it(`${label}, transposeA=${ta}, transposeB=${tb}`, async () => {
        const a = spec(ta ? swapLast(as) : as, 1);
        const b = spec(tb ? swapLast(bs) : bs, 2);
        await expectSame([a, b], (x, y) => tf.matMul(x!, y!, ta, tb), 1e-4, (x, y) => referenceMatMul(x!, y!, ta, tb));
      });
    }
  }

  it("empty operands (k = 0 gives zeros)", async () => {
    await expectSame([spec([3, 0], 1), spec([0, 4], 2)], (x, y) => tf.matMul(x!, y!));
    await expectSame([spec([0, 5], 1), spec([5, 4], 2)], (x, y) => tf.matMul(x!, y!));
  });
});

describe.skipIf(forced)("_FusedMatMul on wasm equals cpu", () => {
  const acts = ["linear", "relu", "leakyrelu", "relu6", "sigmoid", "elu", "prelu"] as const;
  for (const activation of acts) {
    for (const biasSize of [11, 1, 0]) {
      it(`${activation}, bias [${biasSize || "none"}]`, async () => {
        const inputs = [spec([13, 9], 1), spec([9, 11], 2), spec([biasSize || 1], 3), spec([11], 4)];
        await expectSame(inputs, (a, b, bias, alpha) =>
          tf.fused.matMul({
            a: a as tf.Tensor2D,
            b: b as tf.Tensor2D,
            bias: biasSize ? bias : undefined,
            activation,
            preluActivationWeights: activation === "prelu" ? alpha : undefined,
            leakyreluAlpha: 0.2,
          }),
        );
      });
    }
  }

  it("batched with transposes, bias and relu", async () => {
    await expectSame([spec([3, 9, 13], 1), spec([3, 11, 9], 2), spec([11], 3)], (a, b, bias) =>
      tf.fused.matMul({ a: a as tf.Tensor3D, b: b as tf.Tensor3D, transposeA: true, transposeB: true, bias, activation: "relu" }),
    );
  });

  it("2-D with transposeB (computed as a transposed product), bias and leakyrelu", async () => {
    await expectSame([spec([3, 64], 1), spec([33, 64], 2), spec([33], 3)], (a, b, bias) =>
      tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, transposeB: true, bias, activation: "leakyrelu", leakyreluAlpha: 0.1 }),
    );
  });

  it("rank-3 activations × 2-D weights through the kernel directly (as nets/ops.ts calls it)", async () => {
    await expectSame([spec([1, 37, 9], 1), spec([1, 9, 20], 2), spec([20], 3)], (a, b, bias) =>
      tf.engine().runKernel("_FusedMatMul", { a, b, bias }, { transposeA: false, transposeB: false, activation: "leakyrelu", leakyreluAlpha: 0.01 } as unknown as tf.NamedAttrMap) as tf.Tensor,
    );
  });
});

describe.skipIf(forced)("gradients on wasm equal cpu", () => {
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    it(`tf.grads of a batched matMul, transposeA=${ta}, transposeB=${tb}`, async () => {
      const as = [2, 3, 5, 7];
      const bs = [2, 3, 7, 6];
      const inputs = [spec(ta ? swapLast(as) : as, 1), spec(tb ? swapLast(bs) : bs, 2), spec([2, 3, 5, 6], 3)];
      await expectSame(inputs, (a, b, r) => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, ta, tb), r!)))([a!, b!]));
    });
  }

  it("tf.grads through the fused kernel with bias (linear activation fuses under a tape)", async () => {
    const inputs = [spec([13, 9], 1), spec([9, 11], 2), spec([11], 3), spec([13, 11], 4)];
    await expectSame(inputs, (a, b, bias, r) =>
      tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: z }), r!)))([a!, b!, bias!]),
    );
  });
});

describe.skipIf(forced)("Transpose on wasm equals cpu", () => {
  const cases: [number[], number[]][] = [
    [[5, 7], [1, 0]],
    [[37, 19], [1, 0]],
    [[3, 5, 7], [0, 2, 1]],
    [[5, 7, 3], [1, 0, 2]],
    [[2, 5, 7, 3], [0, 2, 1, 3]],
    [[2, 5, 7, 8], [0, 2, 1, 3]],
    [[64, 16, 4, 32], [0, 2, 1, 3]],
    [[2, 1, 5, 7], [0, 3, 2, 1]],
    [[2, 3, 5, 7], [0, 1, 3, 2]],
    [[2, 3, 4], [2, 0, 1]],
    [[2, 3, 4, 5], [3, 1, 0, 2]],
  ];
  for (const [shape, perm] of cases) {
    it(`[${shape}] by [${perm}]`, async () => {
      await expectSame([spec(shape, 1)], (x) => tf.transpose(x!, perm), 0);
    });
  }

  it("int32", async () => {
    await expectSame([{ shape: [3, 6, 5], seed: 1, dtype: "int32" }], (x) => tf.transpose(x!, [0, 2, 1]), 0);
  });
});

describe.skipIf(forced)("Identity on wasm", () => {
  it("a clone shares memory and outlives its source", async () => {
    await selectBackend("wasm");
    const be = tf.backend() as unknown as { numDataIds(): number };
    const x = tf.tensor([1, 2, 3]);
    const ids = be.numDataIds();
    const y = tf.clone(x);
    expect(be.numDataIds()).toBe(ids);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    y.dispose();
    expect(be.numDataIds()).toBe(ids - 1);
  });
});

describe.skipIf(forced)("nets/fused.ts kernels on wasm equal the composed ops on cpu", () => {
  it("are registered", () => {
    for (const k of ["QttdmLayerNorm", "QttdmLayerNormGrad", "QttdmActivationGrad", "QttdmGelu", "QttdmAdam"] as const) expect(hasFused(k), k).toBe(true);
  });

  for (const shape of [[6, 8], [5, 7], [64, 128]]) {
    it(`layer norm and its gradient, [${shape}]`, async () => {
      const d = shape[1]!;
      const inputs = [spec(shape, 1), spec([d], 2), spec([d], 3), spec(shape, 4)];
      const composed = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(x, -1, true);
        return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
      };
      await expectSame(
        inputs,
        (x, g, b, dy) => {
          const [y, mean, rstd] = layerNormFused(x as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
          return [y, ...layerNormGradFused(dy as tf.Tensor2D, x as tf.Tensor2D, mean, rstd, g as tf.Tensor1D)];
        },
        1e-5,
        (x, g, b, dy) => [composed(x!, g!, b!), ...tf.grads((u: tf.Tensor, v: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(composed(u, v, w), dy!)))([x!, g!, b!])],
      );
    });
  }

  const activations = {
    relu: (z: tf.Tensor) => tf.relu(z),
    leaky_relu: (z: tf.Tensor) => tf.leakyRelu(z, 0.01),
    tanh: (z: tf.Tensor) => tf.tanh(z),
    gelu: (z: tf.Tensor) => tf.mul(tf.mul(z, 0.5), tf.add(tf.erf(tf.mul(z, Math.SQRT1_2)), 1)),
  };
  for (const [act, f] of Object.entries(activations) as [keyof typeof activations, (z: tf.Tensor) => tf.Tensor][]) {
    it(`${act} gradient`, async () => {
      // Scaled to reach gelu's tails (|z| up to ~12), where exp(−z²/2) underflows.
      await expectSame(
        [spec([5, 7], 1), spec([5, 7], 2)],
        (z, dy) => activationGradFused(dy!, act === "gelu" ? tf.mul(z!, 4) : f(tf.mul(z!, 4)), act, 0.01),
        1e-6,
        (z, dy) => tf.grad((u: tf.Tensor) => tf.sum(tf.mul(f(u), dy!)))(tf.mul(z!, 4)),
      );
    });
  }

  it("gelu", async () => {
    // Scaled to reach both tails, where Φ is 0 or 1.
    await expectSame([spec([5, 7], 3)], (z) => geluFused(tf.mul(z!, 4)), 1e-6, (z) => activations.gelu(tf.mul(z!, 4)));
  });

  for (const decoupled of [true, false]) {
    it(`Adam: two groups, clipping, weight decay (decoupled ${decoupled}) as nets/optim.ts's composed step`, async () => {
      const shapes = [[3, 4], [4], [2, 2], [37]];
      const cfg = { lr: 0.01, clipNorm: 5, weightDecay: 0.1, decoupledWeightDecay: decoupled };
      const run = async (backend: "cpu" | "wasm") => {
        await selectBackend(backend);
        // On wasm the optimiser takes the fused kernel (nets/optim.ts checks hasFused); on cpu the composed ops.
        const vars = shapes.map((sh, i) => tf.variable(tf.tensor(values(spec(sh, 10 + i)), sh), true, `adam_${backend}_${decoupled}_${i}`));
        const opt = new Adam([{ name: "a", params: new Map([["w", vars[0]!], ["b", vars[1]!]]) }, { name: "b", params: new Map([["u", vars[2]!], ["z", vars[3]!]]), weightDecay: 0 }], cfg);
        const norms = [0, 1, 2].map((s) =>
          tf.tidy(() => opt.apply(Object.fromEntries(shapes.map((sh, i) => [vars[i]!.name, tf.mul(tf.tensor(values(spec(sh, 20 + 4 * s + i)), sh), 10)])))),
        );
        const params = vars.map((v) => Array.from(v.dataSync()));
        opt.dispose();
        tf.dispose(vars);
        return { norms, params };
      };
      const ref = await run("cpu");
      const got = await run("wasm");
      got.norms.forEach((n, i) => expect(n).toBeCloseTo(ref.norms[i]!, 3));
      got.params.forEach((p, i) => p.forEach((v, j) => expect(v).toBeCloseTo(ref.params[i]![j]!, 6)));
    });
  }

  it("Adam stores subnormal moments as 0", async () => {
    await selectBackend("wasm");
    const r = tf.tidy(() => {
      const out = adamFused([{ grads: [tf.zeros([6])], params: [tf.ones([6])], m: tf.fill([6], 1e-39), v: tf.fill([6], 1e-3), lr: 0.1, decay: 1, l2: 0 }], {
        beta1: 0.9,
        beta2: 0.999,
        bc1: 0.1,
        invSqrtBc2: 10,
        eps: 1e-8,
        clipNorm: null,
      });
      return [out.norm, out.groups[0]!.m, out.groups[0]!.v].map((t) => Array.from(t.dataSync()));
    });
    expect(r[0]).toEqual([0]);
    expect(r[1]).toEqual([0, 0, 0, 0, 0, 0]);
    for (const v of r[2]!) expect(v).toBeCloseTo(0.999e-3, 9);
  });
});

describe.skipIf(forced)("no leaks on wasm", () => {
  it("every kernel path keeps tensor and wasm data counts flat", async () => {
    await selectBackend("wasm");
    const be = tf.backend() as unknown as { numDataIds(): number };
    const rng = new Rng(5);
    const t = (shape: number[]) => tf.tensor(rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1))) as Float32Array, shape);
    const a = t([2, 3, 5, 7]);
    const b = t([2, 3, 7, 6]);
    const w = t([7, 6]);
    const bias = t([6]);
    const big = t([9, 1030]);
    const bigB = t([1030, 300]);
    const work = () => {
      tf.tidy(() => {
        tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(tf.transpose(tf.matMul(x, y), [0, 1, 3, 2]), x)))([a, b]);
        tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y, true, true)))([tf.transpose(a, [0, 1, 3, 2]), tf.transpose(b, [0, 1, 3, 2])]);
        tf.fused.matMul({ a: tf.reshape(a, [30, 7]) as tf.Tensor2D, b: w as tf.Tensor2D, bias, activation: "prelu", preluActivationWeights: bias });
        tf.fused.matMul({ a: tf.reshape(a, [30, 7]) as tf.Tensor2D, b: w as tf.Tensor2D, bias: tf.scalar(1).reshape([1]), activation: "relu" });
        tf.matMul(big, bigB);
        tf.matMul(t([2, 1, 5, 7]), t([1, 3, 7, 6]));
        tf.clone(a);
        const x = tf.reshape(a, [30, 7]) as tf.Tensor2D;
        const g = tf.ones([7]) as tf.Tensor1D;
        const [y, mean, rstd] = layerNormFused(x, g, tf.zeros([7]) as tf.Tensor1D, 1e-5);
        layerNormGradFused(y, x, mean, rstd, g);
        activationGradFused(x, x, "gelu");
        geluFused(x);
        const step = adamFused([{ grads: [w, bias], params: [w, bias], m: tf.zeros([48]), v: tf.zeros([48]), lr: 0.1, decay: 1, l2: 0 }], {
          beta1: 0.9,
          beta2: 0.999,
          bc1: 0.1,
          invSqrtBc2: 10,
          eps: 1e-8,
          clipNorm: 1,
        });
        tf.dispose([step.norm, ...step.groups.flatMap((q) => [...q.params, q.m, q.v])]);
      });
    };
    work();
    const tensors = tf.memory().numTensors;
    const ids = be.numDataIds();
    for (let i = 0; i < 5; i++) work();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(be.numDataIds()).toBe(ids);
    tf.dispose([a, b, w, bias, big, bigB]);
  });
});
