/**
 * A greedy policy's network (export/policy.ts's arrays) computed in plain JavaScript. Its own module, with type
 * imports only, so that the server's ONNX path and the exporters load no agent, env or tfjs code for it.
 */
import type { DenseSpecActivation } from "./types.js";
import type { GreedyPolicy, PolicyLayer } from "./policy.js";

/**
 * The greedy network in plain JavaScript from the arrays of `greedyPolicy` (float64 accumulation; kernels stored
 * transposed so every dot product reads contiguous memory): the reference the exported models are checked
 * against, and the server's engine at small batches, where it needs no backend and no tensor bookkeeping.
 */
export class PolicyForward {
  private readonly steps: Step[];
  private readonly symlog: boolean;
  private readonly obsDim: number;
  /** The widest layer, for the two reused activation buffers. */
  private readonly width: number;
  private bufA = new Float64Array(0);
  private bufB = new Float64Array(0);

  constructor(p: GreedyPolicy) {
    this.obsDim = p.obsDim;
    this.symlog = p.preprocess === "symlog";
    this.steps = p.layers.map((l: PolicyLayer): Step => {
      if (l.kind === "dense") return { kind: "dense", inDim: l.inDim, outDim: l.outDim, kernelT: transpose(l.kernel, l.inDim, l.outDim), bias: l.bias, act: l.activation };
      if (l.kind === "layerNorm") return { kind: "layerNorm", dim: l.dim, gamma: l.gamma, beta: l.beta, eps: l.eps, act: l.activation };
      return { kind: "dueling", inDim: l.inDim, actions: l.actions, valueK: l.value.kernel, valueB: l.value.bias[0]!, advT: transpose(l.advantage.kernel, l.inDim, l.actions), advB: l.advantage.bias };
    });
    let w = p.obsDim;
    for (const l of p.layers) w = Math.max(w, l.kind === "dense" ? l.outDim : l.kind === "layerNorm" ? l.dim : l.actions);
    this.width = w;
  }

  /** @param obs [n * obsDim] @returns Q-values [n * actions] (float32) */
  qValues(obs: Float32Array, n: number): Float32Array {
    const need = n * this.width;
    if (this.bufA.length < need) {
      this.bufA = new Float64Array(need);
      this.bufB = new Float64Array(need);
    }
    let x = this.bufA;
    let y = this.bufB;
    const d0 = this.obsDim;
    for (let i = 0; i < n * d0; i++) {
      const v = obs[i]!;
      x[i] = this.symlog ? Math.sign(v) * Math.log1p(Math.abs(v)) : v;
    }
    let dim = d0;
    for (const s of this.steps) {
      if (s.kind === "dense") {
        const { inDim, outDim, kernelT, bias } = s;
        for (let r = 0; r < n; r++) {
          const xo = r * inDim;
          const yo = r * outDim;
          for (let j = 0; j < outDim; j++) {
            const ko = j * inDim;
            let acc = bias ? bias[j]! : 0;
            let k = 0;
            // Four partial sums: independent chains the JIT keeps in registers.
            let a1 = 0, a2 = 0, a3 = 0;
            for (; k + 3 < inDim; k += 4) {
              acc += x[xo + k]! * kernelT[ko + k]!;
              a1 += x[xo + k + 1]! * kernelT[ko + k + 1]!;
              a2 += x[xo + k + 2]! * kernelT[ko + k + 2]!;
              a3 += x[xo + k + 3]! * kernelT[ko + k + 3]!;
            }
            for (; k < inDim; k++) acc += x[xo + k]! * kernelT[ko + k]!;
            y[yo + j] = acc + a1 + a2 + a3;
          }
        }
        activateInPlace(y, n * outDim, s.act);
        dim = outDim;
        [x, y] = [y, x];
      } else if (s.kind === "layerNorm") {
        const { dim: d, gamma, beta, eps } = s;
        for (let r = 0; r < n; r++) {
          const o = r * d;
          let m = 0;
          for (let k = 0; k < d; k++) m += x[o + k]!;
          m /= d;
          let v = 0;
          for (let k = 0; k < d; k++) {
            const c = x[o + k]! - m;
            v += c * c;
          }
          const rstd = 1 / Math.sqrt(v / d + eps);
          for (let k = 0; k < d; k++) x[o + k] = (x[o + k]! - m) * rstd * gamma[k]! + beta[k]!;
        }
        activateInPlace(x, n * d, s.act);
      } else {
        const { inDim, actions, valueK, valueB, advT, advB } = s;
        for (let r = 0; r < n; r++) {
          const xo = r * inDim;
          let v = valueB;
          for (let k = 0; k < inDim; k++) v += x[xo + k]! * valueK[k]!;
          let mean = 0;
          for (let j = 0; j < actions; j++) {
            let a = advB[j]!;
            for (let k = 0; k < inDim; k++) a += x[xo + k]! * advT[j * inDim + k]!;
            y[r * actions + j] = a;
            mean += a;
          }
          mean /= actions;
          for (let j = 0; j < actions; j++) y[r * actions + j] = v + y[r * actions + j]! - mean;
        }
        dim = actions;
        [x, y] = [y, x];
      }
    }
    const q = new Float32Array(n * dim);
    for (let i = 0; i < q.length; i++) q[i] = x[i]!;
    return q;
  }

}

/**
 * The greedy policy's Q-values computed from the arrays alone (see PolicyForward).
 * @param obs [n * obsDim] @returns Q-values [n * actions] (of the last layer given)
 */
export function policyQValues(p: GreedyPolicy, obs: Float32Array, n: number): Float32Array {
  return new PolicyForward(p).qValues(obs, n);
}

/** Index of the first maximum of each row. */
export function argmaxRows(q: ArrayLike<number>, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let best = 0;
    let bestV = q[r * k]!;
    for (let j = 1; j < k; j++) {
      const v = q[r * k + j]!;
      if (v > bestV) {
        bestV = v;
        best = j;
      }
    }
    out[r] = best;
  }
  return out;
}

/** erf to ~1e-7 (Abramowitz and Stegun 7.1.26), as the backends' GELU. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

function activateInPlace(x: Float64Array, len: number, act: DenseSpecActivation): void {
  switch (act) {
    case "linear":
      return;
    case "relu":
      for (let i = 0; i < len; i++) if (x[i]! < 0) x[i] = 0;
      return;
    case "leaky_relu":
      for (let i = 0; i < len; i++) if (x[i]! < 0) x[i] = 0.01 * x[i]!;
      return;
    case "tanh":
      for (let i = 0; i < len; i++) x[i] = Math.tanh(x[i]!);
      return;
    case "gelu":
      for (let i = 0; i < len; i++) {
        const v = x[i]!;
        x[i] = 0.5 * v * (1 + erf(v / Math.SQRT2));
      }
      return;
  }
}

type Step =
  | { kind: "dense"; inDim: number; outDim: number; kernelT: Float32Array; bias: Float32Array | null; act: DenseSpecActivation }
  | { kind: "layerNorm"; dim: number; gamma: Float32Array; beta: Float32Array; eps: number; act: DenseSpecActivation }
  | { kind: "dueling"; inDim: number; actions: number; valueK: Float32Array; valueB: number; advT: Float32Array; advB: Float32Array };

/** [in, out] row-major → [out, in] row-major. */
function transpose(k: Float32Array, inDim: number, outDim: number): Float32Array {
  const t = new Float32Array(k.length);
  for (let i = 0; i < inDim; i++) for (let j = 0; j < outDim; j++) t[j * inDim + i] = k[i * outDim + j]!;
  return t;
}

