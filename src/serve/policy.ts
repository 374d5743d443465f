/**
 * What `qttdm serve` acts with: a policy maps a batch of observations to greedy actions and their Q-values.
 * Three implementations behind one interface:
 * - `ArraysPolicy`: a checkpoint's greedy Q-network (export/policy.ts) computed in plain JavaScript from its
 *   float32 arrays (double accumulation), kernels stored transposed so every dot product reads contiguous memory.
 *   No backend, no tensor bookkeeping: the fastest at the small batches a server sees (bench serve, README).
 * - `TfjsPolicy`: the same network as tfjs kernels on the backend `selectBackend` picks (libtorch when built,
 *   else wasm); faster for large batches.
 * - `OnnxPolicy` (onnx.ts): an ONNX Runtime session over a `qttdm export` model.
 * `checkpointPolicy` picks between the first two per batch size, from a short measurement at start-up.
 */
import type * as tfTypes from "@tensorflow/tfjs";
import type { BackendChoice } from "../backend/index.js";
import type { DenseSpecActivation } from "../export/types.js";
import type { GreedyPolicy, PolicyLayer } from "../export/policy.js";

export interface PolicyOutput {
  /** Greedy action per row (first maximum on ties). */
  actions: Int32Array;
  /** Q-values [n * numActions], row-major. */
  q: Float32Array;
}

export interface ServePolicy {
  readonly obsDim: number;
  readonly numActions: number;
  /** One line for the start-up message, e.g. `checkpoint runs/x (the online DQN critic, LunarLander-v3), arrays`. */
  readonly description: string;
  /** @param obs [n * obsDim] finite float32 values */
  run(obs: Float32Array, n: number): PolicyOutput | Promise<PolicyOutput>;
  close(): Promise<void>;
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

/** The greedy network in plain JavaScript: the arrays of `greedyPolicy`, double accumulation. */
export class ArraysPolicy implements ServePolicy {
  readonly obsDim: number;
  readonly numActions: number;
  readonly description: string;
  private readonly steps: Step[];
  private readonly symlog: boolean;
  private readonly width: number;
  private bufA = new Float64Array(0);
  private bufB = new Float64Array(0);

  constructor(p: GreedyPolicy, description = "arrays") {
    this.obsDim = p.obsDim;
    this.numActions = p.actions;
    this.description = description;
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

  run(obs: Float32Array, n: number): PolicyOutput {
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
    return { q, actions: argmaxRows(q, n, dim) };
  }

  async close(): Promise<void> {}
}

/** The greedy network as tfjs kernels on the current backend (nets/ops.ts's inference ops). */
export class TfjsPolicy implements ServePolicy {
  readonly obsDim: number;
  readonly numActions: number;
  readonly description: string;
  private readonly tf: typeof tfTypes;
  private readonly forward: (x: tfTypes.Tensor2D) => tfTypes.Tensor2D;
  private readonly held: tfTypes.Tensor[] = [];

  private constructor(tf: typeof tfTypes, ops: typeof import("../nets/ops.js"), p: GreedyPolicy, description: string) {
    this.tf = tf;
    this.obsDim = p.obsDim;
    this.numActions = p.actions;
    this.description = description;
    const keep = <T extends tfTypes.Tensor>(t: T): T => {
      this.held.push(t);
      return t;
    };
    const layers = p.layers.map((l) => {
      if (l.kind === "dense") {
        const w = keep(tf.tensor2d(l.kernel, [l.inDim, l.outDim]));
        const b = l.bias ? keep(tf.tensor1d(l.bias)) : null;
        return (x: tfTypes.Tensor2D) => ops.denseInfer(x, w, b, l.activation);
      }
      if (l.kind === "layerNorm") {
        const g = keep(tf.tensor1d(l.gamma));
        const b = keep(tf.tensor1d(l.beta));
        return (x: tfTypes.Tensor2D) => ops.activate(ops.layerNormInfer(x, g, b, l.eps), l.activation) as tfTypes.Tensor2D;
      }
      const vw = keep(tf.tensor2d(l.value.kernel, [l.inDim, 1]));
      const vb = keep(tf.tensor1d(l.value.bias));
      const aw = keep(tf.tensor2d(l.advantage.kernel, [l.inDim, l.actions]));
      const ab = keep(tf.tensor1d(l.advantage.bias));
      return (x: tfTypes.Tensor2D) => {
        const v = ops.denseInfer(x, vw, vb);
        const a = ops.denseInfer(x, aw, ab);
        return tf.add(v, tf.sub(a, tf.mean(a, 1, true))) as tfTypes.Tensor2D;
      };
    });
    const symlog = p.preprocess === "symlog";
    this.forward = (x) => {
      let h = symlog ? (tf.mul(tf.sign(x), tf.log1p(tf.abs(x))) as tfTypes.Tensor2D) : x;
      for (const f of layers) h = f(h);
      return h;
    };
  }

  /** Builds it on the backend already selected (see backend/index.ts). */
  static async create(p: GreedyPolicy, description: string): Promise<TfjsPolicy> {
    const tf = await import("@tensorflow/tfjs");
    const ops = await import("../nets/ops.js");
    return new TfjsPolicy(tf, ops, p, description);
  }

  run(obs: Float32Array, n: number): PolicyOutput {
    const tf = this.tf;
    const qt = tf.tidy(() => this.forward(tf.tensor2d(obs, [n, this.obsDim])));
    const q = Float32Array.from(qt.dataSync() as Float32Array);
    qt.dispose();
    return { q, actions: argmaxRows(q, n, this.numActions) };
  }

  async close(): Promise<void> {
    this.tf.dispose(this.held);
    this.held.length = 0;
  }
}

/** Runs `small` for batches up to `crossover` rows and `large` above. */
export class SplitPolicy implements ServePolicy {
  readonly obsDim: number;
  readonly numActions: number;
  constructor(
    private readonly small: ServePolicy,
    private readonly large: ServePolicy,
    readonly crossover: number,
    readonly description: string,
  ) {
    this.obsDim = small.obsDim;
    this.numActions = small.numActions;
  }
  run(obs: Float32Array, n: number) {
    return n <= this.crossover ? this.small.run(obs, n) : this.large.run(obs, n);
  }
  async close(): Promise<void> {
    await this.small.close();
    await this.large.close();
  }
}

export const ENGINES = ["auto", "arrays", "tfjs"] as const;
export type Engine = (typeof ENGINES)[number];

/** Median milliseconds per call of `policy.run` at batch n (a few warm-up calls first). */
export async function timePolicy(policy: ServePolicy, n: number, calls: number): Promise<number> {
  const obs = new Float32Array(n * policy.obsDim);
  for (let i = 0; i < obs.length; i++) obs[i] = Math.sin(i * 0.37);
  for (let i = 0; i < 3; i++) await policy.run(obs, n);
  const t: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await policy.run(obs, n);
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)]!;
}

/**
 * A checkpoint's greedy policy for serving.
 * @param engine `arrays`, `tfjs` (on `backend`, by default the fastest `selectBackend("auto")` finds), or `auto`: both, timed at
 *   start-up on batches of 1 and up to maxBatch rows; arrays serve the batch sizes where they are faster, tfjs the rest.
 */
export async function checkpointPolicy(checkpoint: string, opts: { engine?: Engine; maxBatch?: number; backend?: BackendChoice } = {}): Promise<ServePolicy> {
  const { greedyPolicy } = await import("../export/policy.js");
  const p = await greedyPolicy(checkpoint);
  const what = `checkpoint ${p.checkpoint} (${p.source}, ${p.env}, ${p.obsDim} inputs, ${p.actions} actions)`;
  const engine = opts.engine ?? "auto";
  if (engine === "arrays") return new ArraysPolicy(p, `${what}, JavaScript arrays`);
  const { selectBackend, formatBackend } = await import("../backend/index.js");
  const backend = formatBackend(await selectBackend(opts.backend ?? "auto"));
  const tfjs = await TfjsPolicy.create(p, `${what}, tfjs ${backend}`);
  if (engine === "tfjs") return tfjs;
  const arrays = new ArraysPolicy(p, `${what}, JavaScript arrays`);
  // Largest batch where the arrays are at least as fast: sizes 1, 2, 4, ... up to maxBatch.
  const maxBatch = opts.maxBatch ?? 64;
  let crossover = 0;
  for (let n = 1; n <= maxBatch; n *= 2) {
    const a = await timePolicy(arrays, n, 40);
    const t = await timePolicy(tfjs, n, 40);
    if (a <= t) crossover = n;
    else break;
  }
  if (crossover >= maxBatch) {
    await tfjs.close();
    return new ArraysPolicy(p, `${what}, JavaScript arrays (faster than tfjs ${backend} up to batch ${maxBatch})`);
  }
  if (crossover === 0) {
    return tfjs;
  }
  return new SplitPolicy(arrays, tfjs, crossover, `${what}, JavaScript arrays up to batch ${crossover}, tfjs ${backend} above`);
}
