/**
 * Differentiable primitives with hand-written gradients (`tf.customGrad`) that stay on the fast kernels
 * of every backend.
 *
 * Why: a fused dense stack is one tape node that saves only what its backward reads (the engine clones
 * every saved tensor), and bias gradients use ones-vector matmuls: on wasm `sum` over axis 0 transposes
 * first ([128,256]: 164 µs against 16 µs). Transposed-operand matmuls are used directly: on wasm they run on
 * the kernels of `backend/wasm-matmul.ts`, which transpose with SIMD and cost the same as plain products
 * (the stock kernel ran them ~12× slower).
 */
import * as tf from "@tensorflow/tfjs";
import { ConfigError, show } from "../core/errors.js";
import { activationGradFused, attentionFused, attentionGradFused, geluFused, hasFused, layerNormFused, layerNormGradFused, takesMatrices, type AttentionAttrs } from "./fused.js";

/** Activations fused into `dense`. `leaky_relu` uses slope 0.01 (PyTorch's default); `gelu` is the exact erf form. */
export type Activation = "linear" | "relu" | "leaky_relu" | "gelu" | "tanh";
export const ACTIVATIONS: readonly Activation[] = ["linear", "relu", "leaky_relu", "gelu", "tanh"];
export const LEAKY_SLOPE = 0.01;

export function checkActivation(a: string, where: string): Activation {
  if (!(ACTIVATIONS as readonly string[]).includes(a)) {
    throw new ConfigError(`${where}: activation ${show(a)} is not one of ${ACTIVATIONS.join(", ")}`);
  }
  return a as Activation;
}

/** ones[1, n] per backend and size, kept alive for the process (they are tiny). */
const onesCache = new Map<string, tf.Tensor2D>();
function onesRow(n: number): tf.Tensor2D {
  const key = `${tf.getBackend()}:${n}`;
  let t = onesCache.get(key);
  if (t === undefined || t.isDisposed) {
    t = tf.keep(tf.ones([1, n]) as tf.Tensor2D);
    onesCache.set(key, t);
  }
  return t;
}

/**
 * Column sums of a 2-D tensor as a ones-vector matmul.
 * @param x [n, m]
 * @returns [m]
 */
export function sumRows(x: tf.Tensor2D): tf.Tensor1D {
  return tf.reshape(tf.matMul(onesRow(x.shape[0]), x), [x.shape[1]]);
}

/**
 * Batched matmul, differentiable by tfjs's own gradient (transposed-operand products, fast on every backend
 * now: see the module doc).
 * @param a [..., m, k] ([..., k, m] with transposeA)
 * @param b [..., k, n] ([..., n, k] with transposeB); leading dims broadcast against a's
 * @returns [..., m, n]
 */
export function matMul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  return tf.matMul(a, b, transposeA, transposeB);
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Exact GELU x·Φ(x) (no gradient; used inside `dense` and `gelu`). */
function geluValue(z: tf.Tensor): tf.Tensor {
  if (hasFused("QttdmGelu")) return geluFused(z);
  return tf.mul(tf.mul(z, 0.5), tf.add(tf.erf(tf.mul(z, SQRT1_2)), 1));
}

/** d gelu / dz = Φ(z) + z·φ(z). */
function geluDeriv(z: tf.Tensor): tf.Tensor {
  const cdf = tf.mul(tf.add(tf.erf(tf.mul(z, SQRT1_2)), 1), 0.5);
  const pdf = tf.mul(tf.exp(tf.mul(tf.square(z), -0.5)), INV_SQRT_2PI);
  return tf.add(cdf, tf.mul(z, pdf));
}

/** Whether the activation's derivative is computed from its output y. */
function outputNeeded(act: Activation): boolean {
  return act === "relu" || act === "leaky_relu" || act === "tanh";
}

/** dL/dz from dL/dy, using y (the activation output; see outputNeeded) or z (pre-activation, gelu only). */
function activationBackward(dy: tf.Tensor, y: tf.Tensor | null, z: tf.Tensor | null, act: Activation): tf.Tensor {
  if (act !== "linear" && hasFused("QttdmActivationGrad")) return activationGradFused(dy, act === "gelu" ? z! : y!, act, LEAKY_SLOPE);
  switch (act) {
    case "linear":
      return dy;
    case "relu":
      return tf.mul(dy, tf.step(y!));
    case "leaky_relu":
      // step(y)·(1-s) + s is 1 where y > 0 and s elsewhere.
      return tf.mul(dy, tf.add(tf.mul(tf.step(y!), 1 - LEAKY_SLOPE), LEAKY_SLOPE));
    case "tanh":
      return tf.mul(dy, tf.sub(1, tf.square(y!)));
    case "gelu":
      return tf.mul(dy, geluDeriv(z!));
  }
}

/**
 * An activation as a standalone differentiable op, for layers that put something (a layer norm) between
 * the matmul and the activation and so cannot fuse them.
 */
export function activate(x: tf.Tensor, act: Activation): tf.Tensor {
  switch (act) {
    case "linear":
      return x;
    case "relu":
      return tf.relu(x);
    case "leaky_relu":
      return tf.leakyRelu(x, LEAKY_SLOPE);
    case "tanh":
      return tf.tanh(x);
    case "gelu":
      return gelu(x);
  }
}

/** tfjs fused matMul supports these activations directly. */
function fusedName(act: Activation): tf.fused.Activation | null {
  if (act === "linear") return "linear";
  if (act === "relu") return "relu";
  if (act === "leaky_relu") return "leakyrelu";
  return null;
}

/**
 * x·W (+ b) with a fused activation through the `_FusedMatMul` kernel. Called directly because
 * `tf.fused.matMul` declines to fuse whenever a gradient tape is active (it then runs matMul, a broadcast
 * add that costs ~0.36 ms for [128,256] on wasm, and the activation); our gradient is hand-written anyway.
 */
function fusedMatMul(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null, act: tf.fused.Activation): tf.Tensor2D {
  const attrs = { transposeA: false, transposeB: false, activation: act, leakyreluAlpha: LEAKY_SLOPE };
  if (takesMatrices()) {
    const inputs: tf.NamedTensorMap = b ? { a: x, b: w, bias: b } : { a: x, b: w };
    return tf.engine().runKernel("_FusedMatMul", inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
  }
  const [n, k] = x.shape;
  const m = w.shape[1];
  const inputs: tf.NamedTensorMap = { a: tf.reshape(x, [1, n, k]), b: tf.reshape(w, [1, k, m]) };
  if (b) inputs.bias = b;
  const y = tf.engine().runKernel("_FusedMatMul", inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  return tf.reshape(y, [n, m]);
}

function forward(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null, act: Activation): { y: tf.Tensor2D; z: tf.Tensor2D | null } {
  const f = fusedName(act);
  if (f !== null) return { y: fusedMatMul(x, w, b, f), z: null };
  // tanh and gelu have no fused kernel form.
  const z = fusedMatMul(x, w, b, "linear");
  return act === "tanh" ? { y: tf.tanh(z), z: null } : { y: geluValue(z) as tf.Tensor2D, z };
}

function backward(dy: tf.Tensor2D, x: tf.Tensor2D, w: tf.Tensor2D, y: tf.Tensor2D | null, z: tf.Tensor2D | null, act: Activation, needDx: boolean, needDw = true) {
  const dz = activationBackward(dy, y, z, act) as tf.Tensor2D;
  const dx = needDx ? tf.matMul<tf.Tensor2D>(dz, w, false, true) : null;
  const dw = needDw ? tf.matMul<tf.Tensor2D>(x, dz, true, false) : null;
  return { dz, dx, dw };
}

/** One layer of a dense stack: kernel [in, out], optional bias [out], fused activation. */
export interface DenseLayerSpec {
  w: tf.Tensor2D;
  b: tf.Tensor1D | null;
  act: Activation;
}

/**
 * A chain of fused dense layers as ONE differentiable op: forward runs the layers with `_FusedMatMul`,
 * backward is the hand-written chain rule (transposed-operand matmuls, ones-vector bias sums). One tape node
 * instead of one per layer; on wasm the tape's own bookkeeping is small (W1 MLP forward+backward: ~3.8 ms
 * CPU taped vs ~3.5 ms with no tape at all), the kernels dominate.
 * @param x [n, in]
 * @param layers consecutive layers (kernel shapes must chain)
 * @param inputGrad false when x needs no gradient (e.g. observations): x is then closed over, not an input
 * @param paramGrad false when the layers' parameters need no gradient (a critic that a policy's loss
 *   differentiates through): they are then closed over and their weight gradients never computed
 * @returns [n, out of the last layer]
 */
export function denseStack(x: tf.Tensor2D, layers: readonly DenseLayerSpec[], inputGrad = true, paramGrad = true): tf.Tensor2D {
  if (!inputGrad && !paramGrad) return layers.reduce((h, l) => denseInfer(h, l.w, l.b, l.act), x);
  const params: tf.Tensor[] = [];
  if (paramGrad) {
    for (const l of layers) {
      params.push(l.w);
      if (l.b) params.push(l.b);
    }
  }
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const X = (inputGrad ? args[0] : x) as tf.Tensor2D;
    // The engine clones every saved tensor (an Identity kernel each), so save only what the backward
    // needs: each layer's input, its output where the activation derivative reads it, and the
    // pre-activation for gelu. The last layer's output is not an input to anything.
    const last = layers.length - 1;
    const keepsOut = (i: number) => i < last || outputNeeded(layers[i]!.act);
    const saved: tf.Tensor[] = [X];
    let h = X;
    layers.forEach((l, i) => {
      const { y, z } = forward(h, l.w, l.b, l.act);
      if (keepsOut(i)) saved.push(y);
      if (z) saved.push(z);
      h = y;
    });
    save(saved);
    return {
      value: h,
      gradFunc: (dy: tf.Tensor, st: tf.Tensor[]) => {
        // st = [x, y0, (z0), y1, (z1), …] with y_i present when keepsOut(i): layer i's input is y_{i−1}.
        const ins: tf.Tensor2D[] = [];
        const outs: (tf.Tensor2D | null)[] = [];
        const pre: (tf.Tensor2D | null)[] = [];
        let k = 0;
        let cur = st[k++] as tf.Tensor2D;
        layers.forEach((l, i) => {
          ins.push(cur);
          const y = keepsOut(i) ? (st[k++] as tf.Tensor2D) : null;
          outs.push(y);
          pre.push(l.act === "gelu" ? (st[k++] as tf.Tensor2D) : null);
          if (y) cur = y;
        });
        const grads: tf.Tensor[] = new Array(params.length);
        let gi = params.length;
        let g = dy as tf.Tensor2D;
        for (let i = layers.length - 1; i >= 0; i--) {
          const l = layers[i]!;
          const r = backward(g, ins[i]!, l.w, outs[i]!, pre[i]!, l.act, i > 0 || inputGrad, paramGrad);
          if (paramGrad) {
            if (l.b) grads[--gi] = sumRows(r.dz);
            grads[--gi] = r.dw!;
          }
          if (r.dx) g = r.dx;
        }
        return inputGrad ? [g, ...grads] : grads;
      },
    };
  });
  return (inputGrad ? op(x, ...params) : op(...params)) as tf.Tensor2D;
}

/**
 * Fused dense layer y = act(x·W + b) with a hand-written gradient.
 * Inputs of rank > 2 are flattened to 2-D and the result reshaped back.
 * @param x [..., in]
 * @param w [in, out]
 * @param b [out] or null (no bias)
 * @returns [..., out]
 */
export function dense(x: tf.Tensor, w: tf.Tensor2D, b: tf.Tensor1D | null, act: Activation = "linear"): tf.Tensor {
  const inDim = w.shape[0];
  const outDim = w.shape[1];
  if (x.shape[x.rank - 1] !== inDim) {
    throw new ConfigError(`dense: input last dim ${x.shape[x.rank - 1]} does not match kernel [${w.shape.join(", ")}]`);
  }
  const x2 = (x.rank === 2 ? x : tf.reshape(x, [-1, inDim])) as tf.Tensor2D;
  const y = denseStack(x2, [{ w, b, act }]);
  return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), outDim]);
}

/**
 * `dense` on a matrix without a gradient: the kernels alone, no tape node. For inference in loops of small
 * products (planning, autoregressive decoding), where the op's bookkeeping costs as much as the kernels.
 * @param x [n, in] @returns [n, out]
 */
export function denseInfer(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null, act: Activation = "linear"): tf.Tensor2D {
  return forward(x, w, b, act).y;
}

const geluOp = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
  const X = x as tf.Tensor;
  (save as tf.GradSaveFunc)([X]);
  return { value: geluValue(X), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, geluDeriv(saved[0]!)) };
});

/** Exact GELU, x·Φ(x), any shape. */
export function gelu(x: tf.Tensor): tf.Tensor {
  return geluOp(x);
}

/**
 * Gradient-free embedding lookup as one-hot × table, so its gradient is a plain matmul (the wasm
 * backend has no UnsortedSegmentSum kernel, which `tf.gather`'s gradient needs).
 * @param ids int32 [...]; values in [0, vocab)
 * @param table [vocab, d]
 * @returns [..., d]
 */
export function embeddingLookup(ids: tf.Tensor, table: tf.Tensor2D): tf.Tensor {
  const vocab = table.shape[0];
  const oh = tf.cast(tf.oneHot(tf.cast(tf.reshape(ids, [-1]), "int32") as tf.Tensor1D, vocab), "float32") as tf.Tensor2D;
  // The one-hot matrix is closed over rather than passed in, so no gradient is computed for it.
  const lookup = tf.customGrad((t: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    (save as tf.GradSaveFunc)([oh]);
    return {
      value: tf.matMul(oh, t as tf.Tensor2D),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.matMul(saved[0] as tf.Tensor2D, dy as tf.Tensor2D, true, false),
    };
  });
  return tf.reshape(lookup(table), [...ids.shape, table.shape[1]]);
}

/**
 * Mean over the last axis with the axis kept.
 * @param x [n, d]
 * @returns [n, 1]
 */
function meanLast(x: tf.Tensor2D): tf.Tensor2D {
  // sum·(1/d) rather than tf.mean: the wasm Mean kernel measured ~20× slower than Sum here.
  return tf.mul(tf.sum(x, -1, true), 1 / x.shape[1]);
}

type LayerNormFn = (x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D) => tf.Tensor2D;
const layerNormFns = new Map<string, LayerNormFn>();

/** Layer norm as the backend's fused kernels (see nets/fused.ts): statistics saved, one call each way. */
function fusedLayerNormFn(eps: number): LayerNormFn {
  return tf.customGrad((x: tf.Tensor | tf.GradSaveFunc, g: tf.Tensor | tf.GradSaveFunc, b: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const [y, mean, rstd] = layerNormFused(x as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, eps);
    (save as tf.GradSaveFunc)([x as tf.Tensor2D, mean, rstd, g as tf.Tensor1D]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, smean, srstd, sg] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        return layerNormGradFused(dy as tf.Tensor2D, sx, smean, srstd, sg);
      },
    };
  }) as unknown as LayerNormFn;
}

/** (x − mean)·rstd with rstd = 1/√(var + eps), per row. */
function normalise(x: tf.Tensor2D, eps: number): { xhat: tf.Tensor2D; rstd: tf.Tensor2D } {
  const xc = tf.sub(x, meanLast(x)) as tf.Tensor2D;
  const rstd = tf.rsqrt(tf.add(meanLast(tf.square(xc)), eps)) as tf.Tensor2D;
  return { xhat: tf.mul(xc, rstd) as tf.Tensor2D, rstd };
}

function layerNormFn(eps: number): LayerNormFn {
  const fused = hasFused("QttdmLayerNorm");
  const key = `${eps}:${fused}`;
  let fn = layerNormFns.get(key);
  if (fn) return fn;
  fn = fused ? fusedLayerNormFn(eps) : tf.customGrad((x: tf.Tensor | tf.GradSaveFunc, g: tf.Tensor | tf.GradSaveFunc, b: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const G = g as tf.Tensor1D;
    const { xhat, rstd } = normalise(x as tf.Tensor2D, eps);
    (save as tf.GradSaveFunc)([xhat, rstd, G]);
    return {
      value: tf.add(tf.mul(xhat, G), b as tf.Tensor1D) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sxhat, srstd, sg] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        const dy2 = dy as tf.Tensor2D;
        const dxhat = tf.mul(dy2, sg) as tf.Tensor2D;
        const inner = tf.sub(tf.sub(dxhat, meanLast(dxhat)), tf.mul(sxhat, meanLast(tf.mul(dxhat, sxhat) as tf.Tensor2D)));
        return [tf.mul(inner, srstd), sumRows(tf.mul(dy2, sxhat) as tf.Tensor2D), sumRows(dy2)];
      },
    };
  }) as unknown as LayerNormFn;
  layerNormFns.set(key, fn);
  return fn;
}

/**
 * Layer normalisation over the last axis, y = (x − mean)/√(var + eps)·γ + β, with a hand-written gradient.
 * @param x [..., d]
 * @param gamma [d]
 * @param beta [d]
 * @returns [..., d]
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5): tf.Tensor {
  const d = gamma.shape[0];
  const x2 = (x.rank === 2 ? x : tf.reshape(x, [-1, d])) as tf.Tensor2D;
  const y = layerNormFn(eps)(x2, gamma, beta);
  return x.rank === 2 ? y : tf.reshape(y, x.shape);
}

/** `layerNorm` on a matrix without a gradient (see `denseInfer`). @param x [n, d] @returns [n, d] */
export function layerNormInfer(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5): tf.Tensor2D {
  if (hasFused("QttdmLayerNorm")) {
    const [y, mean, rstd] = layerNormFused(x, gamma, beta, eps);
    tf.dispose([mean, rstd]);
    return y;
  }
  return tf.add(tf.mul(normalise(x, eps).xhat, gamma), beta) as tf.Tensor2D;
}

type AttentionFn = (q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D) => tf.Tensor2D;

/** The attention core as the backend's fused kernels (see nets/fused.ts): probabilities saved, one call each way. */
function fusedAttentionFn(attrs: AttentionAttrs): AttentionFn {
  return tf.customGrad((q: tf.Tensor | tf.GradSaveFunc, k: tf.Tensor | tf.GradSaveFunc, v: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const [o, probs] = attentionFused(q as tf.Tensor, k as tf.Tensor, v as tf.Tensor, attrs);
    (save as tf.GradSaveFunc)([q as tf.Tensor, k as tf.Tensor, v as tf.Tensor, probs]);
    return {
      value: o,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sk, sv, sp] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        return attentionGradFused(dy, sq, sk, sv, sp, attrs);
      },
    };
  }) as unknown as AttentionFn;
}

/**
 * The core of causal multi-head self-attention, softmax(q·kᵀ/√dh + causal mask + bias)·v per row and head.
 * Where the backend has the fused kernels and no bias is given, one call each way (the composed form is ~12
 * kernels forward and ~20 backward, and its batched products make one BLAS call per row and head).
 * @param q, k, v [b·t, d] projections, rows ordered by b then t, heads contiguous along d
 * @param bias optional additive bias broadcastable to [b, heads, t, t] (e.g. −1e9 to mask keys)
 * @returns [b·t, d]
 */
export function causalAttention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, b: number, t: number, heads: number, bias?: tf.Tensor): tf.Tensor2D {
  const d = q.shape[1];
  const dh = d / heads;
  const scale = 1 / Math.sqrt(dh);
  if (bias === undefined && hasFused("QttdmAttention")) return fusedAttentionFn({ b, t, heads, scale })(q, k, v);
  const split = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [b, t, heads, dh]), [0, 2, 1, 3]);
  // Scaling q instead of the [t, t] scores touches fewer values.
  let scores = tf.add(matMul(split(tf.mul(q, scale)), split(k), false, true), causalMask(t)); // [b, h, t, t]
  if (bias) scores = tf.add(scores, bias);
  const o = matMul(tf.softmax(scores), split(v)); // [b, h, t, dh]
  return tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [b * t, d]);
}

/** Additive causal mask [t, t]: 0 on and below the diagonal, −1e9 above; cached per backend and length. */
const maskCache = new Map<string, tf.Tensor2D>();
export function causalMask(t: number): tf.Tensor2D {
  const key = `${tf.getBackend()}:${t}`;
  let m = maskCache.get(key);
  if (m === undefined || m.isDisposed) {
    const v = new Float32Array(t * t);
    for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) v[i * t + j] = -1e9;
    m = tf.keep(tf.tensor2d(v, [t, t]));
    maskCache.set(key, m);
  }
  return m;
}

/**
 * Element-wise Huber loss of a residual (PyTorch `smooth_l1_loss` with beta = delta = 1 is the same):
 * 0.5·x² for |x| ≤ δ, else δ·(|x| − 0.5·δ).
 * @param x residuals, any shape
 * @returns same shape as x
 */
export function huber(x: tf.Tensor, delta = 1): tf.Tensor {
  const a = tf.abs(x);
  const q = tf.minimum(a, delta);
  return tf.mul(q, tf.sub(a, tf.mul(q, 0.5)));
}

/**
 * Pick one column per row: out[i] = q[i, idx[i]]. Written as a one-hot product because `tf.gather`'s
 * gradient needs UnsortedSegmentSum, which the wasm backend lacks.
 * @param q [n, k]
 * @param idx int32 [n] (tensor or Int32Array) with values in [0, k)
 * @returns [n]
 */
export function selectColumns(q: tf.Tensor2D, idx: tf.Tensor1D | Int32Array): tf.Tensor1D {
  const [n, k] = q.shape;
  let mask: tf.Tensor2D;
  if (idx instanceof Int32Array) {
    const m = new Float32Array(n * k);
    for (let i = 0; i < n; i++) m[i * k + idx[i]!] = 1;
    mask = tf.tensor2d(m, [n, k]);
  } else {
    mask = tf.cast(tf.oneHot(tf.cast(idx, "int32") as tf.Tensor1D, k), "float32") as tf.Tensor2D;
  }
  return tf.sum(tf.mul(q, mask), -1) as tf.Tensor1D;
}

/** The parts of tfjs-backend-wasm 4.22's backend object that `splitFlat` reads (not public API). */
interface WasmBackendInternals {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm: { HEAPU8: Uint8Array };
}
let scratch = new Float32Array(0);

/**
 * Split a 1-D float32 tensor into consecutive pieces of the given sizes.
 * On wasm, `tf.split`/`tf.slice`/`dataSync` each copy the whole input out of the wasm heap into a fresh
 * JavaScript buffer, and fresh large buffers are slow here (page faults): splitting W1's 69k-parameter
 * update into 6 pieces measured 4.7 ms with tf.split and 0.94 ms via dataSync. So on wasm the values are
 * copied once from the heap into a reused scratch buffer and uploaded per piece (0.085 ms). This reads the
 * backend's internal tensor map; if that is missing (another tfjs-backend-wasm version), tf.split is used.
 * @param x [sum(sizes)] float32
 * @returns one [size] tensor per entry of `sizes` (x itself when there is one piece)
 */
export function splitFlat(x: tf.Tensor1D, sizes: readonly number[]): tf.Tensor1D[] {
  if (sizes.length === 1) return [x];
  const be = tf.backend() as unknown as Partial<WasmBackendInternals>;
  const entry = tf.getBackend() === "wasm" && x.dtype === "float32" ? be.dataIdMap?.get?.(x.dataId) : undefined;
  if (entry === undefined || be.wasm?.HEAPU8 === undefined) return tf.split(x, sizes as number[]) as tf.Tensor1D[];
  if (scratch.length < x.size) scratch = new Float32Array(x.size);
  // Copy first: uploading the pieces may grow the wasm memory, which detaches views of the old heap.
  scratch.set(new Float32Array(be.wasm.HEAPU8.buffer, entry.memoryOffset, x.size));
  const out: tf.Tensor1D[] = [];
  let o = 0;
  for (const n of sizes) {
    out.push(tf.tensor1d(scratch.subarray(o, o + n), "float32"));
    o += n;
  }
  return out;
}
