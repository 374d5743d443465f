/**
 * qttdm's fused kernels: one backend call where the tfjs form composes several element-wise ops.
 *
 * The libtorch backend (ATen's `native_layer_norm`, `threshold_backward`, …; native/src/addon.cc) and qttdm's
 * wasm kernels (backend/wasm-matmul.ts) implement them; on cpu they are not registered and callers use the
 * composed tfjs ops instead, so every backend computes the same function. Measured on libtorch, with them and
 * 2-D fused products (takesMatrices) the W3 transformer step went from 695 to 367 kernels and 57 to 45 ms.
 */
import * as tf from "@tensorflow/tfjs";
import { wasmKernelsInstalled } from "../backend/wasm-matmul.js";

export type FusedKernel =
  | "QttdmLayerNorm"
  | "QttdmLayerNormGrad"
  | "QttdmActivationGrad"
  | "QttdmGelu"
  | "QttdmAdam"
  | "QttdmCachedBlock"
  | "QttdmAttention"
  | "QttdmAttentionGrad";

/** Whether the active backend implements `name`. */
export function hasFused(name: FusedKernel): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/**
 * Whether the active backend's `_FusedMatMul` takes 2-D operands as they are: libtorch's and qttdm's wasm kernel
 * (backend/wasm-matmul.ts) do. tfjs's own kernels want rank 3 ([1, n, k]), which costs three Reshape kernels per
 * product; on libtorch those were ~40% of a batch-1 action, on wasm batch-1 latency went 25 → 17 µs without them.
 */
export function takesMatrices(): boolean {
  const b = tf.getBackend();
  return b === "libtorch" || (b === "wasm" && wasmKernelsInstalled());
}

function run(name: FusedKernel, inputs: tf.NamedTensorMap | tf.Tensor[], attrs: Record<string, unknown> = {}): tf.Tensor[] {
  const out = tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap);
  return Array.isArray(out) ? out : [out];
}

/**
 * Layer norm over the last axis.
 * @param x [n, d] @param gamma [d] @param beta [d]
 * @returns y [n, d] and the statistics the backward pass reads: mean [n, 1], 1/√(var + eps) [n, 1]
 */
export function layerNormFused(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
  return run("QttdmLayerNorm", { x, gamma, beta }, { eps }) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
}

/** Gradients of `layerNormFused` with respect to x, gamma and beta. */
export function layerNormGradFused(dy: tf.Tensor2D, x: tf.Tensor2D, mean: tf.Tensor2D, rstd: tf.Tensor2D, gamma: tf.Tensor1D): [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D] {
  return run("QttdmLayerNormGrad", { dy, x, mean, rstd, gamma }) as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
}

/**
 * dL/dz of an activation from dL/dy, in one pass.
 * @param y the activation's output (relu, leaky_relu, tanh) or its input z (gelu, exact erf form)
 */
export function activationGradFused(dy: tf.Tensor, y: tf.Tensor, activation: "relu" | "leaky_relu" | "tanh" | "gelu", slope = 0): tf.Tensor {
  return run("QttdmActivationGrad", { dy, y }, { activation, slope })[0]!;
}

/** Exact GELU x·Φ(x) in one pass (the composed form is four kernels). */
export function geluFused(x: tf.Tensor): tf.Tensor {
  return run("QttdmGelu", { x })[0]!;
}

/** Shape of `attentionFused`: b rows of t tokens, `heads` heads contiguous along the width. */
export interface AttentionAttrs {
  b: number;
  t: number;
  heads: number;
  /** Multiplies q·kᵀ (1/√dh). */
  scale: number;
}

/**
 * The core of causal multi-head self-attention, softmax(scale·q·kᵀ + causal mask)·v, per row and head.
 * @param q, k, v [b·t, d]: the projections, heads contiguous along d
 * @returns o [b·t, d], and the attention probabilities that the backward pass reads (in the kernel's own layout)
 */
export function attentionFused(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, attrs: AttentionAttrs): [tf.Tensor, tf.Tensor] {
  return run("QttdmAttention", { q, k, v }, { ...attrs }) as [tf.Tensor, tf.Tensor];
}

/** Gradients of `attentionFused` with respect to q, k and v. */
export function attentionGradFused(dy: tf.Tensor, q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, probs: tf.Tensor, attrs: AttentionAttrs): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return run("QttdmAttentionGrad", { dy, q, k, v, probs }, { ...attrs }) as [tf.Tensor, tf.Tensor, tf.Tensor];
}

/** The parameters of one pre-LN transformer block, in the order `cachedBlockFused` passes them. */
export interface BlockWeights {
  ln1: [tf.Tensor1D, tf.Tensor1D];
  q: [tf.Tensor2D, tf.Tensor1D];
  k: [tf.Tensor2D, tf.Tensor1D];
  v: [tf.Tensor2D, tf.Tensor1D];
  proj: [tf.Tensor2D, tf.Tensor1D];
  ln2: [tf.Tensor1D, tf.Tensor1D];
  fc1: [tf.Tensor2D, tf.Tensor1D];
  fc2: [tf.Tensor2D, tf.Tensor1D];
}

/**
 * One pre-LN transformer block on n new tokens per row with a KV cache, no gradient (agents/tdm/incremental.ts
 * composes the same from ~20 kernels).
 * @param h [b·n, d] (rows ordered by b, then n) @param cache keys and values [b, heads, t, dh] of earlier tokens
 * @returns h′ [b·n, d], and keys and values [b, heads, t + n, dh]
 */
export function cachedBlockFused(
  h: tf.Tensor2D,
  w: BlockWeights,
  cache: [tf.Tensor4D, tf.Tensor4D] | null,
  attrs: { b: number; n: number; heads: number; activation: "linear" | "relu" | "leaky_relu" | "gelu" | "tanh"; eps: number; scale: number; slope: number },
): [tf.Tensor2D, tf.Tensor4D, tf.Tensor4D] {
  const inputs = [h, ...w.ln1, ...w.q, ...w.k, ...w.v, ...w.proj, ...w.ln2, ...w.fc1, ...w.fc2, ...(cache ?? [])];
  return run("QttdmCachedBlock", inputs, { ...attrs, cached: cache !== null }) as [tf.Tensor2D, tf.Tensor4D, tf.Tensor4D];
}

/** One parameter group of a fused Adam step. */
export interface FusedAdamGroup {
  grads: tf.Tensor[];
  params: tf.Tensor[];
  /** First and second moments, flat over the group's parameters in order. */
  m: tf.Tensor;
  v: tf.Tensor;
  lr: number;
  /** Decoupled weight decay factor applied to the parameters (1: none). */
  decay: number;
  /** L2 coefficient added to the gradients (0: none). */
  l2: number;
}

/**
 * One Adam step over every group (the rule of nets/optim.ts).
 * @returns the global gradient norm before clipping, and per group the new parameters, m and v
 */
export function adamFused(
  groups: readonly FusedAdamGroup[],
  hp: { beta1: number; beta2: number; bc1: number; invSqrtBc2: number; eps: number; clipNorm: number | null },
): { norm: tf.Scalar; groups: { params: tf.Tensor[]; m: tf.Tensor1D; v: tf.Tensor1D }[] } {
  const inputs = groups.flatMap((g) => [...g.grads, ...g.params, g.m, g.v]);
  const out = run("QttdmAdam", inputs, {
    ...hp,
    groups: groups.map((g) => ({ size: g.params.length, lr: g.lr, decay: g.decay, l2: g.l2 })),
  });
  let k = 1;
  return {
    norm: out[0] as tf.Scalar,
    groups: groups.map((g) => {
      const params = out.slice(k, k + g.params.length);
      k += g.params.length;
      return { params, m: out[k++] as tf.Tensor1D, v: out[k++] as tf.Tensor1D };
    }),
  };
}
