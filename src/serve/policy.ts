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
import { argmaxRows, PolicyForward } from "../export/forward.js";
import type { GreedyPolicy } from "../export/policy.js";

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

/** The greedy network in plain JavaScript (export/policy.ts's PolicyForward). */
export class ArraysPolicy implements ServePolicy {
  readonly obsDim: number;
  readonly numActions: number;
  readonly description: string;
  private readonly forward: PolicyForward;

  constructor(p: GreedyPolicy, description = "arrays") {
    this.obsDim = p.obsDim;
    this.numActions = p.actions;
    this.description = description;
    this.forward = new PolicyForward(p);
  }

  run(obs: Float32Array, n: number): PolicyOutput {
    const q = this.forward.qValues(obs, n);
    return { q, actions: argmaxRows(q, n, this.numActions) };
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
