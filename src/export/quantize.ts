/**
 * int8 quantisation of a greedy policy's dense products for the ONNX export (export/onnx.ts writes the graph a
 * {@link QuantizationPlan} describes).
 *
 * Why it is more than rounding each kernel: LunarLander Q-functions have action gaps far below their Q-values
 * (median gap 0.3, 1% of replay states under 0.005, |Q| up to ~560 at γ 0.999), so errors that are harmless for
 * the Q-values flip greedy actions. Measured on the five 200k-step dqn-reaper runs (docs/results.md), plain
 * round-to-nearest int8 kept 57–86% of the actions; what each step below adds is stated there. The plan:
 *
 * - **First and output products: two int8 planes** w ≈ s·q₁ + (s/254)·q₂ (per output column), computed in float32.
 *   The first reads raw observations (8 inputs: too few for error compensation, and observations quantised per
 *   call are coarse); the output writes the Q-values directly. Both are small, so a second plane costs little.
 * - **Hidden products: int8 weights, activations quantised per call** (in two passes in the graph: the input, then
 *   its rounding residual), the weights rounded with GPTQ's error compensation on calibration inputs and
 *   SmoothQuant's per-input scales folded into the layer before.
 * - **Output refit**: the output product is re-fitted by ridge least squares so that, on the quantised hidden
 *   layers' outputs for the calibration states, it reproduces the float network's outputs, then quantised. The
 *   hidden layers' rounding errors are partly predictable from those outputs, and this removes that part.
 */
import { policyQValues } from "./forward.js";
import type { GreedyPolicy, PolicyLayer } from "./policy.js";

/** One dense product of the network: a dense layer, or a dueling head's value and advantage as one [in, 1 + A] product. */
export interface DenseProduct {
  /** Index of its layer in the policy. */
  layer: number;
  inDim: number;
  outDim: number;
  /** [inDim, outDim] row-major. */
  kernel: Float32Array;
  bias: Float32Array | null;
}

/** The network's dense products in graph order. */
export function denseProducts(policy: GreedyPolicy): DenseProduct[] {
  const out: DenseProduct[] = [];
  policy.layers.forEach((l, layer) => {
    if (l.kind === "dense") out.push({ layer, inDim: l.inDim, outDim: l.outDim, kernel: l.kernel, bias: l.bias });
    else if (l.kind === "dueling") {
      const A = l.actions;
      const kernel = new Float32Array(l.inDim * (1 + A));
      for (let k = 0; k < l.inDim; k++) {
        kernel[k * (1 + A)] = l.value.kernel[k]!;
        kernel.set(l.advantage.kernel.subarray(k * A, (k + 1) * A), k * (1 + A) + 1);
      }
      const bias = new Float32Array(1 + A);
      bias[0] = l.value.bias[0]!;
      bias.set(l.advantage.bias, 1);
      out.push({ layer, inDim: l.inDim, outDim: 1 + A, kernel, bias });
    }
  });
  return out;
}

/** The layer with a product's weights replaced (a dueling head's combined product split back). */
function withProductWeights(l: PolicyLayer, kernel: Float32Array, bias: Float32Array | null): PolicyLayer {
  if (l.kind === "dense") return { ...l, kernel, bias };
  if (l.kind !== "dueling") throw new Error(`quantize: layer kind ${l.kind} has no dense product`);
  const A = l.actions;
  const value = new Float32Array(l.inDim);
  const advantage = new Float32Array(l.inDim * A);
  for (let k = 0; k < l.inDim; k++) {
    value[k] = kernel[k * (1 + A)]!;
    advantage.set(kernel.subarray(k * (1 + A) + 1, (k + 1) * (1 + A)), k * A);
  }
  return { ...l, value: { kernel: value, bias: Float32Array.of(bias![0]!) }, advantage: { kernel: advantage, bias: bias!.slice(1) } };
}

/** int8 values on a per-output-column grid: w ≈ q · scale[column]. */
export interface ColumnGrid {
  q: Int8Array;
  scale: Float32Array;
}

/** Steps of the second plane per step of the first (its scale is s / 254: the residual |w − s·q₁| ≤ s/2 fits ±127). */
export const RESIDUAL_STEPS = 254;

/** Per-output-column symmetric int8 quantisation of a row-major [inDim, outDim] kernel: w ≈ q · scale[col]. */
export function quantizeColumns(kernel: Float32Array, inDim: number, outDim: number): ColumnGrid {
  const scale = new Float32Array(outDim);
  for (let j = 0; j < outDim; j++) {
    let m = 0;
    for (let k = 0; k < inDim; k++) m = Math.max(m, Math.abs(kernel[k * outDim + j]!));
    scale[j] = m > 0 ? m / 127 : 1;
  }
  return { q: roundToGrid(kernel, scale, outDim), scale };
}

function roundToGrid(kernel: ArrayLike<number>, scale: Float32Array, outDim: number): Int8Array {
  return Int8Array.from(kernel, (v, i) => Math.max(-127, Math.min(127, Math.round(v / scale[i % outDim]!))));
}

/** The second plane of a kernel on {@link residualScale}'s grid: what the first plane's rounding left. */
export function residualPlane(kernel: Float32Array, first: ColumnGrid, outDim: number): Int8Array {
  const s2 = residualScale(first.scale);
  return roundToGrid(
    kernel.map((v, i) => v - first.q[i]! * first.scale[i % outDim]!),
    s2,
    outDim,
  );
}

/** The second plane's scales, s / 254 rounded to float32 (as the graph's Div computes them). */
export function residualScale(scale: Float32Array): Float32Array {
  return scale.map((s) => s / RESIDUAL_STEPS);
}

/** The float32 kernel a grid (and an optional second plane) stands for. */
export function dequantize(grid: ColumnGrid, outDim: number, residual?: Int8Array): Float32Array {
  const s2 = residual ? residualScale(grid.scale) : null;
  return Float32Array.from(grid.q, (v, i) => v * grid.scale[i % outDim]! + (residual ? residual[i]! * s2![i % outDim]! : 0));
}

/**
 * Error-compensated rounding of a kernel to the per-column int8 grid of {@link quantizeColumns} (GPTQ, Frantar et
 * al. 2023, with per-column scales): the input rows are rounded one at a time, in order of decreasing second
 * moment, and each row's rounding error is spread over the rows not yet rounded, weighted by the inverse of the inputs' second-moment matrix
 * H = XᵀX/m (+1% of its mean diagonal), so that X·W_q stays close to X·W on the calibration inputs X [m, inDim]
 * rather than each weight close to its own value.
 * @returns the int8 values and scales (the same scales as plain rounding)
 */
export function quantizeColumnsCalibrated(kernel: Float32Array, inDim: number, outDim: number, x: Float32Array, m: number): ColumnGrid {
  const { scale } = quantizeColumns(kernel, inDim, outDim);
  const h = secondMoments(x, m, inDim, false);
  let meanDiag = 0;
  for (let i = 0; i < inDim; i++) meanDiag += h[i * inDim + i]! / inDim;
  const damp = 0.01 * (meanDiag > 0 ? meanDiag : 1);
  for (let i = 0; i < inDim; i++) h[i * inDim + i] = (h[i * inDim + i]! === 0 ? 1 : h[i * inDim + i]!) + damp;
  // GPTQ's "act order": the inputs with the largest second moments first, while the most rows are left to absorb
  // their rounding errors (+0.02 to +0.21 points of action agreement on the five LunarLander runs).
  const order = Array.from({ length: inDim }, (_, i) => i).sort((a, b) => h[b * inDim + b]! - h[a * inDim + a]! || a - b);
  const hp = new Float64Array(inDim * inDim);
  for (let i = 0; i < inDim; i++) for (let j = 0; j < inDim; j++) hp[i * inDim + j] = h[order[i]! * inDim + order[j]!]!;
  const u = upperCholeskyOfInverse(hp, inDim);
  const w = new Float64Array(inDim * outDim);
  for (let i = 0; i < inDim; i++) for (let j = 0; j < outDim; j++) w[i * outDim + j] = kernel[order[i]! * outDim + j]!;
  const q = new Int8Array(inDim * outDim);
  for (let i = 0; i < inDim; i++) {
    const d = u[i * inDim + i]!;
    for (let j = 0; j < outDim; j++) {
      const v = w[i * outDim + j]!;
      const k = Math.max(-127, Math.min(127, Math.round(v / scale[j]!)));
      q[order[i]! * outDim + j] = k;
      const e = (v - k * scale[j]!) / d;
      if (e !== 0) for (let r = i + 1; r < inDim; r++) w[r * outDim + j] -= e * u[i * inDim + r]!;
    }
  }
  return { q, scale };
}

/** XᵀX of rows X [m, d] (with a constant 1 appended to each row when `withOne`: [d + 1, d + 1]). */
function secondMoments(x: Float32Array, m: number, d: number, withOne: boolean): Float64Array {
  const D = withOne ? d + 1 : d;
  const h = new Float64Array(D * D);
  const row = new Float64Array(D);
  for (let r = 0; r < m; r++) {
    for (let i = 0; i < d; i++) row[i] = x[r * d + i]!;
    if (withOne) row[d] = 1;
    for (let i = 0; i < D; i++) {
      const xi = row[i]!;
      if (xi === 0) continue; // ReLU outputs are often zero
      for (let j = 0; j < D; j++) h[i * D + j] += xi * row[j]!;
    }
  }
  return h;
}

/** Lower Cholesky factor L (A = LLᵀ) of a symmetric positive-definite [d, d] matrix. */
function cholesky(a: Float64Array, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j]!;
      for (let k = 0; k < j; k++) s -= l[i * d + k]! * l[j * d + k]!;
      if (i === j) {
        if (!(s > 0)) throw new Error("ONNX export: the calibration inputs' second-moment matrix is not positive definite");
        l[i * d + i] = Math.sqrt(s);
      } else l[i * d + j] = s / l[j * d + j]!;
    }
  }
  return l;
}

/** U with H⁻¹ = UᵀU (U upper triangular), as GPTQ uses it. */
function upperCholeskyOfInverse(h: Float64Array, d: number): Float64Array {
  const l = cholesky(h, d);
  // L⁻¹ (lower), then H⁻¹ = L⁻ᵀ L⁻¹.
  const li = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    li[i * d + i] = 1 / l[i * d + i]!;
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = j; k < i; k++) s += l[i * d + k]! * li[k * d + j]!;
      li[i * d + j] = -s / l[i * d + i]!;
    }
  }
  const inv = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < d; k++) s += li[k * d + i]! * li[k * d + j]!;
      inv[i * d + j] = s;
      inv[j * d + i] = s;
    }
  }
  const l2 = cholesky(inv, d);
  const u = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) u[i * d + j] = l2[j * d + i]!;
  return u;
}

/** Relative ridge of {@link refitProduct}: λ = 1e-3 × the mean diagonal of XᵀX, pulling towards the trained weights. */
export const REFIT_RIDGE = 1e-3;

/**
 * Ridge least squares for a product [inDim, outDim] with bias: the kernel and bias minimising
 * ‖X·W + b − Y‖² + λ‖(W, b) − (W₀, b₀)‖² on inputs X [m, inDim] and targets Y [m, outDim].
 */
export function refitProduct(x: Float32Array, m: number, inDim: number, y: Float64Array, outDim: number, kernel0: Float32Array, bias0: Float32Array | null): { kernel: Float32Array; bias: Float32Array } {
  const D = inDim + 1;
  const g = secondMoments(x, m, inDim, true);
  const b = new Float64Array(D * outDim);
  for (let r = 0; r < m; r++) {
    for (let i = 0; i < D; i++) {
      const xi = i < inDim ? x[r * inDim + i]! : 1;
      if (xi === 0) continue;
      for (let o = 0; o < outDim; o++) b[i * outDim + o] += xi * y[r * outDim + o]!;
    }
  }
  let meanDiag = 0;
  for (let i = 0; i < D; i++) meanDiag += g[i * D + i]! / D;
  const lambda = REFIT_RIDGE * (meanDiag > 0 ? meanDiag : 1);
  for (let i = 0; i < D; i++) {
    g[i * D + i] += lambda;
    for (let o = 0; o < outDim; o++) b[i * outDim + o] += lambda * (i < inDim ? kernel0[i * outDim + o]! : (bias0?.[o] ?? 0));
  }
  const l = cholesky(g, D);
  const w = new Float64Array(D * outDim);
  const z = new Float64Array(D);
  for (let o = 0; o < outDim; o++) {
    for (let i = 0; i < D; i++) {
      let s = b[i * outDim + o]!;
      for (let k = 0; k < i; k++) s -= l[i * D + k]! * z[k]!;
      z[i] = s / l[i * D + i]!;
    }
    for (let i = D - 1; i >= 0; i--) {
      let s = z[i]!;
      for (let k = i + 1; k < D; k++) s -= l[k * D + i]! * w[k * outDim + o]!;
      w[i * outDim + o] = s / l[i * D + i]!;
    }
  }
  return { kernel: Float32Array.from(w.subarray(0, inDim * outDim)), bias: Float32Array.from(w.subarray(inDim * outDim)) };
}

/** SmoothQuant scales s_k = max|x_k|^α / max_j|W_kj|^(1−α) (1 where either is zero). */
function smoothingScales(x: Float32Array, n: number, kernel: Float32Array, inDim: number, outDim: number, alpha: number): Float32Array {
  const ax = new Float64Array(inDim);
  for (let i = 0; i < n * inDim; i++) ax[i % inDim] = Math.max(ax[i % inDim]!, Math.abs(x[i]!));
  const s = new Float32Array(inDim);
  for (let k = 0; k < inDim; k++) {
    let aw = 0;
    for (let j = 0; j < outDim; j++) aw = Math.max(aw, Math.abs(kernel[k * outDim + j]!));
    const v = ax[k]! > 0 && aw > 0 ? Math.pow(ax[k]!, alpha) / Math.pow(aw, 1 - alpha) : 1;
    s[k] = Number.isFinite(v) && v > 0 ? v : 1;
  }
  return s;
}

/** How one dense product is stored and computed in the graph. */
export type ProductPlan =
  /** float32 weights. */
  | { kind: "float"; kernel: Float32Array; bias: Float32Array | null }
  /** int8 weights and the input quantised per call (two passes: the input, then its rounding residual). */
  | { kind: "dynamic"; weights: ColumnGrid; bias: Float32Array | null }
  /** Two int8 planes (scale s and s / 254), dequantised and computed in float32. */
  | { kind: "planes"; weights: ColumnGrid; residual: Int8Array; bias: Float32Array | null };

export interface QuantizationPlan {
  /** The policy the graph is written from: as given, with smoothing scales folded into layers before hidden products. */
  policy: GreedyPolicy;
  /** One per {@link denseProducts} entry, in the same order. */
  products: ProductPlan[];
  /** The network the graph computes, with the weights dequantised (the rounding of activations aside). */
  dequantized: GreedyPolicy;
}

export interface QuantizationOptions {
  /** Which dense products (by their order in the graph, 0 = first) to quantise; default all. The rest stay float32. */
  quantize?: (index: number, inDim: number, outDim: number) => boolean;
  /**
   * Observations [n, obsDim] to calibrate on: GPTQ rounding of the hidden products, their smoothing scales and the
   * output refit, each on the inputs computed through the products before it as quantised. Without: plain rounding.
   */
  calibration?: { obs: Float32Array; n: number };
  /** With calibration: SmoothQuant's migration strength α in (0, 1] for the hidden products; 0 or absent: none. */
  smooth?: number;
}

/** Every product float32: the plan of the float32 export. */
export function floatPlan(policy: GreedyPolicy): QuantizationPlan {
  return { policy, products: denseProducts(policy).map((p) => ({ kind: "float", kernel: p.kernel, bias: p.bias })), dequantized: policy };
}

/** Activations f with f(x / s) = f(x) / s for s > 0, so a division of the next product's input folds into the layer. */
const POSITIVELY_HOMOGENEOUS = new Set(["linear", "relu", "leaky_relu"]);

/** The int8 plan (see the module comment). */
export function quantizationPlan(policy: GreedyPolicy, opts: QuantizationOptions = {}): QuantizationPlan {
  const products = denseProducts(policy);
  const cal = opts.calibration;
  // The network as quantised so far (dequantised weights, folded scales): what the next product's inputs come from.
  const layers = policy.layers.slice();
  const inputsOf = (layer: number, from: PolicyLayer[]) => policyQValues({ ...policy, layers: from.slice(0, layer) }, cal!.obs, cal!.n);
  const plans: ProductPlan[] = [];
  products.forEach((p, index) => {
    const isOutput = index === products.length - 1;
    let { kernel, bias } = p;
    let x = cal ? inputsOf(p.layer, layers) : null;
    if (cal && isOutput && index > 0) {
      // Targets: the float network's outputs of this product on the same states.
      const xf = inputsOf(p.layer, policy.layers);
      const y = new Float64Array(cal.n * p.outDim);
      for (let r = 0; r < cal.n; r++) {
        for (let o = 0; o < p.outDim; o++) {
          let s = p.bias?.[o] ?? 0;
          for (let i = 0; i < p.inDim; i++) s += xf[r * p.inDim + i]! * p.kernel[i * p.outDim + o]!;
          y[r * p.outDim + o] = s;
        }
      }
      ({ kernel, bias } = refitProduct(x!, cal.n, p.inDim, y, p.outDim, kernel, bias));
    }
    let plan: ProductPlan;
    let effective: Float32Array;
    if (opts.quantize && !opts.quantize(index, p.inDim, p.outDim)) {
      plan = { kind: "float", kernel, bias };
      effective = kernel;
    } else if (index === 0 || isOutput) {
      const weights = quantizeColumns(kernel, p.inDim, p.outDim);
      const residual = residualPlane(kernel, weights, p.outDim);
      plan = { kind: "planes", weights, residual, bias };
      effective = dequantize(weights, p.outDim, residual);
    } else {
      const s = cal && opts.smooth ? foldSmoothing(layers, plans, products, index, x!, cal.n, kernel, opts.smooth) : null;
      if (s) {
        kernel = kernel.map((v, i) => v * s[Math.floor(i / p.outDim)]!);
        x = x!.map((v, i) => v / s[i % p.inDim]!);
      }
      const weights = cal ? quantizeColumnsCalibrated(kernel, p.inDim, p.outDim, x!, cal.n) : quantizeColumns(kernel, p.inDim, p.outDim);
      plan = { kind: "dynamic", weights, bias };
      effective = dequantize(weights, p.outDim);
    }
    plans.push(plan);
    layers[p.layer] = withProductWeights(layers[p.layer]!, effective, bias);
  });
  return { policy: { ...policy, layers: policy.layers.map((l, i) => (l.kind === "layerNorm" ? layers[i]! : l)) }, products: plans, dequantized: { ...policy, layers } };
}

/**
 * SmoothQuant for hidden product `index`: divides its input by s (per input channel) by folding 1/s into the
 * layer that produces that input (a LayerNorm's γ and β, or the previous product's output columns) when that
 * layer's activation allows it. Updates `layers` (and the previous product's plan) in place.
 * @returns s, or null where nothing can carry it (the product's input is not produced by such a layer)
 */
function foldSmoothing(layers: PolicyLayer[], plans: ProductPlan[], products: DenseProduct[], index: number, x: Float32Array, n: number, kernel: Float32Array, alpha: number): Float32Array | null {
  const p = products[index]!;
  const before = layers[p.layer - 1];
  if (!before || before.kind === "dueling" || !POSITIVELY_HOMOGENEOUS.has(before.activation)) return null;
  const s = smoothingScales(x, n, kernel, p.inDim, p.outDim, alpha);
  if (before.kind === "layerNorm") {
    layers[p.layer - 1] = { ...before, gamma: before.gamma.map((v, i) => v / s[i]!), beta: before.beta.map((v, i) => v / s[i]!) };
    return s;
  }
  // The previous layer is the previous product: divide its output columns (a per-column rescaling of its grid).
  const prev = plans[index - 1]!;
  const out = before.outDim;
  const bias = prev.bias ? prev.bias.map((v, j) => v / s[j]!) : null;
  if (prev.kind === "float") plans[index - 1] = { ...prev, kernel: prev.kernel.map((v, i) => v / s[i % out]!), bias };
  else plans[index - 1] = { ...prev, weights: { q: prev.weights.q, scale: prev.weights.scale.map((v, j) => v / s[j]!) }, bias };
  const q = plans[index - 1]!;
  layers[p.layer - 1] = { ...before, kernel: q.kind === "float" ? q.kernel : dequantize(q.weights, out, q.kind === "planes" ? q.residual : undefined), bias };
  return s;
}
