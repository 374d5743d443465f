/**
 * Layers and small models on the fast primitives of `ops.ts`. Each is a `Module` (named `tf.Variable`s,
 * seeded init) with an `apply` method that is pure tfjs ops, so it composes inside `tf.tidy`,
 * `tf.variableGrads` and `Optimizer.step`.
 *
 * tfjs-layers is not used: its Dense layers are one tape node each, and their bias gradients `sum` over axis 0,
 * which the stock wasm Sum runs after a transpose (~10× a ones-vector matmul, see ops.ts). Measured on wasm
 * with the stock kernels, the W1 Double-DQN update (MLP 8-256-256-4, batch 128, Adam, clipping) cost 38 ms
 * CPU with tf.sequential + tf.train.adam against 10.5 ms with these layers and `Adam` (same busy machine).
 */
import * as tf from "@tensorflow/tfjs";
import { ConfigError, show } from "../core/errors.js";
import type { Rng } from "../core/rng.js";
import { Module, type InitSpec } from "./module.js";
import { activate, causalAttention, checkActivation, dense, denseInfer, denseStack, embeddingLookup, layerNorm, layerNormInfer, type Activation, type DenseLayerSpec } from "./ops.js";

/** f on the rows of x [b, t, d] as a matrix [b·t, d] (ordered by b, then t), reshaped back to [b, t, d']. */
function onRows(x: tf.Tensor3D, f: (rows: tf.Tensor2D, b: number, t: number) => tf.Tensor2D): tf.Tensor3D {
  const [b, t, d] = x.shape;
  const y = f(tf.reshape(x, [b * t, d]), b, t);
  return tf.reshape(y, [b, t, y.shape[1]]);
}

function checkPositiveInt(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${what}: got ${show(v)}, expected a positive integer`);
}

export interface DenseOptions {
  activation?: Activation;
  /** Kernel init (default `fan_in_uniform`, PyTorch's Linear default). */
  kernelInit?: InitSpec;
  /** Bias init (default `fan_in_uniform` with the kernel's fan-in, as PyTorch). */
  biasInit?: InitSpec;
  /** Default true. */
  useBias?: boolean;
}

/** Fully connected layer y = act(x·W + b). Parameters `kernel` [in, out] and `bias` [out]. */
export class Dense extends Module {
  readonly kernel: tf.Variable<tf.Rank.R2>;
  readonly bias: tf.Variable<tf.Rank.R1> | null;
  readonly activation: Activation;

  constructor(name: string, readonly inDim: number, readonly outDim: number, rng: Rng, opts: DenseOptions = {}) {
    super(name);
    checkPositiveInt(inDim, `dense ${name} inDim`);
    checkPositiveInt(outDim, `dense ${name} outDim`);
    this.activation = checkActivation(opts.activation ?? "linear", `dense ${name}`);
    this.kernel = this.addParam("kernel", [inDim, outDim], opts.kernelInit ?? "fan_in_uniform", rng) as tf.Variable<tf.Rank.R2>;
    this.bias =
      opts.useBias === false
        ? null
        : (this.addParam("bias", [outDim], opts.biasInit ?? "fan_in_uniform", rng, inDim, outDim) as tf.Variable<tf.Rank.R1>);
  }

  /** @param x [..., in] @returns [..., out] */
  apply(x: tf.Tensor): tf.Tensor {
    return dense(x, this.kernel, this.bias, this.activation);
  }

  /** `apply` without a gradient (see `denseInfer`). @param x [n, in] @returns [n, out] */
  infer(x: tf.Tensor2D): tf.Tensor2D {
    return denseInfer(x, this.kernel, this.bias, this.activation);
  }
}

export interface MlpOptions {
  /** Hidden activation (default relu). */
  activation?: Activation;
  /** Output activation (default linear). */
  outActivation?: Activation;
  kernelInit?: InitSpec;
  /** Init of the last layer's kernel and bias (e.g. `zeros` for QT-TDM's heads); default as the others. */
  lastInit?: InitSpec;
  /**
   * Layer-normalise every activated layer between its matmul and its activation (Dense → LayerNorm →
   * activation, as PQN's critic), named `norm<i>` after layer `dense<i>`. Default false.
   */
  layerNorm?: boolean;
}

/**
 * Multi-layer perceptron in → hidden… → out. Layers are named `dense0`, `dense1`, …; with `layerNorm`, the
 * norm of activated layer i is `norm<i>`.
 */
export class Mlp extends Module {
  readonly layers: Dense[];
  /** Per layer, its layer norm (null where the layer has none). Empty without `layerNorm`. */
  readonly norms: (LayerNorm | null)[];
  /** Per layer, the activation applied after its norm (normed layers' Dense is linear). */
  readonly activations: Activation[];
  private readonly specs: DenseLayerSpec[];

  constructor(name: string, readonly inDim: number, readonly hidden: readonly number[], readonly outDim: number, rng: Rng, opts: MlpOptions = {}) {
    super(name);
    const dims = [inDim, ...hidden, outDim];
    this.layers = [];
    this.norms = [];
    this.activations = [];
    for (let i = 0; i + 1 < dims.length; i++) {
      const last = i + 2 === dims.length;
      const act = checkActivation(last ? opts.outActivation ?? "linear" : opts.activation ?? "relu", `mlp ${name}`);
      const normed = opts.layerNorm === true && act !== "linear";
      this.layers.push(
        this.addChild(
          new Dense(`dense${i}`, dims[i]!, dims[i + 1]!, rng, {
            activation: normed ? "linear" : act,
            kernelInit: last && opts.lastInit ? opts.lastInit : opts.kernelInit,
            biasInit: last && opts.lastInit ? opts.lastInit : undefined,
          }),
        ),
      );
      this.activations.push(act);
      if (opts.layerNorm) this.norms.push(normed ? this.addChild(new LayerNorm(`norm${i}`, dims[i + 1]!, rng)) : null);
    }
    this.specs = this.layers.map((l) => ({ w: l.kernel, b: l.bias, act: l.activation }));
  }

  /**
   * Without layer norms, runs all layers as one differentiable op (`denseStack`).
   * @param x [..., in]
   * @param inputGrad false when x needs no gradient (raw observations): skips computing it
   * @param paramGrad false when the weights need no gradient (a critic a policy loss differentiates through)
   * @returns [..., out]
   */
  apply(x: tf.Tensor, inputGrad = true, paramGrad = true): tf.Tensor {
    const x2 = (x.rank === 2 ? x : tf.reshape(x, [-1, this.inDim])) as tf.Tensor2D;
    const y = this.norms.length ? this.applyNormed(x2, inputGrad, paramGrad) : denseStack(x2, this.specs, inputGrad, paramGrad);
    return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), this.outDim]);
  }

  /** `apply` without a gradient (see `denseInfer`). @param x [n, in] @returns [n, out] */
  infer(x: tf.Tensor2D): tf.Tensor2D {
    let h = x;
    this.layers.forEach((l, i) => {
      h = l.infer(h);
      const norm = this.norms[i];
      if (norm) h = activate(norm.infer(h), this.activations[i]!) as tf.Tensor2D;
    });
    return h;
  }

  private applyNormed(x: tf.Tensor2D, inputGrad: boolean, paramGrad: boolean): tf.Tensor2D {
    let h = x;
    for (let i = 0; i < this.specs.length; i++) {
      h = denseStack(h, [this.specs[i]!], i > 0 || inputGrad, paramGrad);
      const norm = this.norms[i];
      if (norm) h = activate(norm.apply(h), this.activations[i]!) as tf.Tensor2D;
    }
    return h;
  }
}

/** Layer normalisation over the last axis; parameters `gamma` (ones) and `beta` (zeros). */
export class LayerNorm extends Module {
  readonly gamma: tf.Variable<tf.Rank.R1>;
  readonly beta: tf.Variable<tf.Rank.R1>;

  constructor(name: string, readonly dim: number, rng: Rng, readonly eps = 1e-5) {
    super(name);
    checkPositiveInt(dim, `layer norm ${name} dim`);
    this.gamma = this.addParam("gamma", [dim], "ones", rng) as tf.Variable<tf.Rank.R1>;
    this.beta = this.addParam("beta", [dim], "zeros", rng) as tf.Variable<tf.Rank.R1>;
  }

  /** @param x [..., dim] @returns [..., dim] */
  apply(x: tf.Tensor): tf.Tensor {
    return layerNorm(x, this.gamma, this.beta, this.eps);
  }

  /** `apply` without a gradient (see `denseInfer`). @param x [n, dim] @returns [n, dim] */
  infer(x: tf.Tensor2D): tf.Tensor2D {
    return layerNormInfer(x, this.gamma, this.beta, this.eps);
  }
}

/**
 * Causal multi-head self-attention with projections `q`, `k`, `v`, `proj` (each [d, d], heads contiguous
 * along the output columns). Separate q/k/v projections rather than one fused [d, 3d] matmul because
 * splitting a fused result needs a rank-5 transpose or slices, which the wasm backend runs 100× slower
 * than a rank-4 transpose (measured: 34 ms vs 0.24 ms for 64×16×384 values).
 */
export class CausalSelfAttention extends Module {
  readonly q: Dense;
  readonly k: Dense;
  readonly v: Dense;
  readonly proj: Dense;
  readonly headDim: number;

  constructor(name: string, readonly dim: number, readonly heads: number, rng: Rng) {
    super(name);
    checkPositiveInt(heads, `attention ${name} heads`);
    if (dim % heads !== 0) throw new ConfigError(`attention ${name}: width ${dim} is not divisible by heads ${heads}`);
    this.headDim = dim / heads;
    this.q = this.addChild(new Dense("q", dim, dim, rng));
    this.k = this.addChild(new Dense("k", dim, dim, rng));
    this.v = this.addChild(new Dense("v", dim, dim, rng));
    this.proj = this.addChild(new Dense("proj", dim, dim, rng));
  }

  /**
   * @param x [b, t, d]
   * @param bias optional additive attention bias broadcastable to [b, heads, t, t] (e.g. −1e9 to mask keys),
   *   added to the causal mask.
   * @returns [b, t, d]
   */
  apply(x: tf.Tensor3D, bias?: tf.Tensor): tf.Tensor3D {
    return onRows(x, (rows, b, t) => this.applyRows(rows, b, t, bias));
  }

  /** `apply` on the rows of x: [b·t, d] (ordered by b, then t) → [b·t, d], no reshapes around the products. */
  applyRows(x: tf.Tensor2D, b: number, t: number, bias?: tf.Tensor): tf.Tensor2D {
    const o = causalAttention(this.q.apply(x) as tf.Tensor2D, this.k.apply(x) as tf.Tensor2D, this.v.apply(x) as tf.Tensor2D, b, t, this.heads, bias);
    return this.proj.apply(o) as tf.Tensor2D;
  }
}

export interface TransformerBlockOptions {
  /** MLP activation (default gelu). */
  activation?: Activation;
  /** MLP hidden width as a multiple of the model width (default 4). */
  mlpRatio?: number;
}

/** Pre-LN transformer block: x + attn(ln1(x)); x + fc2(act(fc1(ln2(x)))). */
export class TransformerBlock extends Module {
  readonly ln1: LayerNorm;
  readonly attn: CausalSelfAttention;
  readonly ln2: LayerNorm;
  readonly fc1: Dense;
  readonly fc2: Dense;

  constructor(name: string, readonly dim: number, heads: number, rng: Rng, opts: TransformerBlockOptions = {}) {
    super(name);
    const hidden = Math.round((opts.mlpRatio ?? 4) * dim);
    this.ln1 = this.addChild(new LayerNorm("ln1", dim, rng));
    this.attn = this.addChild(new CausalSelfAttention("attn", dim, heads, rng));
    this.ln2 = this.addChild(new LayerNorm("ln2", dim, rng));
    this.fc1 = this.addChild(new Dense("fc1", dim, hidden, rng, { activation: opts.activation ?? "gelu" }));
    this.fc2 = this.addChild(new Dense("fc2", hidden, dim, rng));
  }

  /** @param x [b, t, d] @param bias optional attention bias (see CausalSelfAttention) @returns [b, t, d] */
  apply(x: tf.Tensor3D, bias?: tf.Tensor): tf.Tensor3D {
    return onRows(x, (rows, b, t) => this.applyRows(rows, b, t, bias));
  }

  /** `apply` on the rows of x: [b·t, d] (ordered by b, then t) → [b·t, d]. */
  applyRows(x: tf.Tensor2D, b: number, t: number, bias?: tf.Tensor): tf.Tensor2D {
    const a = tf.add(x, this.attn.applyRows(this.ln1.apply(x) as tf.Tensor2D, b, t, bias)) as tf.Tensor2D;
    return tf.add(a, this.fc2.apply(this.fc1.apply(this.ln2.apply(a)))) as tf.Tensor2D;
  }
}

export interface TransformerOptions extends TransformerBlockOptions {
  layers: number;
  dim: number;
  heads: number;
}

/** A stack of pre-LN blocks (`block0`, `block1`, …) followed by a final layer norm `lnf`. */
export class Transformer extends Module {
  readonly blocks: TransformerBlock[];
  readonly lnf: LayerNorm;

  constructor(name: string, readonly opts: TransformerOptions, rng: Rng) {
    super(name);
    checkPositiveInt(opts.layers, `transformer ${name} layers`);
    this.blocks = [];
    for (let i = 0; i < opts.layers; i++) this.blocks.push(this.addChild(new TransformerBlock(`block${i}`, opts.dim, opts.heads, rng, opts)));
    this.lnf = this.addChild(new LayerNorm("lnf", opts.dim, rng));
  }

  /** @param x [b, t, d] token embeddings (positions already added) @returns [b, t, d] */
  apply(x: tf.Tensor3D, bias?: tf.Tensor): tf.Tensor3D {
    // The blocks work on the [b·t, d] rows: their products and layer norms take matrices as they are.
    return onRows(x, (rows, b, t) => {
      let h = rows;
      for (const blk of this.blocks) h = blk.applyRows(h, b, t, bias);
      return this.lnf.apply(h) as tf.Tensor2D;
    });
  }
}

/** Token embedding table `table` [vocab, dim], init N(0, 0.02²). */
export class Embedding extends Module {
  readonly table: tf.Variable<tf.Rank.R2>;

  constructor(name: string, readonly vocab: number, readonly dim: number, rng: Rng, init: InitSpec = { kind: "normal", std: 0.02 }) {
    super(name);
    checkPositiveInt(vocab, `embedding ${name} vocab`);
    checkPositiveInt(dim, `embedding ${name} dim`);
    this.table = this.addParam("table", [vocab, dim], init, rng) as tf.Variable<tf.Rank.R2>;
  }

  /** @param ids int32 [...] in [0, vocab) @returns float32 [..., dim] */
  apply(ids: tf.Tensor): tf.Tensor {
    return embeddingLookup(ids, this.table);
  }
}

/** Learned absolute positions `table` [maxLen, dim], init N(0, 0.02²), added to the input. */
export class PositionEmbedding extends Module {
  readonly table: tf.Variable<tf.Rank.R2>;

  constructor(name: string, readonly maxLen: number, readonly dim: number, rng: Rng) {
    super(name);
    checkPositiveInt(maxLen, `position embedding ${name} maxLen`);
    this.table = this.addParam("table", [maxLen, dim], { kind: "normal", std: 0.02 }, rng) as tf.Variable<tf.Rank.R2>;
  }

  /** @param x [b, t, dim] with t ≤ maxLen @returns x + positions[0..t) */
  apply(x: tf.Tensor3D): tf.Tensor3D {
    const t = x.shape[1];
    if (t > this.maxLen) throw new ConfigError(`position embedding ${this.name}: sequence length ${t} exceeds maxLen ${this.maxLen}`);
    const pos = t === this.maxLen ? this.table : tf.slice(this.table, [0, 0], [t, this.dim]);
    return tf.add(x, pos) as tf.Tensor3D;
  }
}

/**
 * Dueling Q head (Wang et al. 2016): Q(s, a) = V(s) + A(s, a) − mean_a A(s, a).
 * Sub-layers `value` [in, 1] and `advantage` [in, actions].
 */
export class DuelingHead extends Module {
  readonly value: Dense;
  readonly advantage: Dense;

  constructor(name: string, readonly inDim: number, readonly actions: number, rng: Rng) {
    super(name);
    this.value = this.addChild(new Dense("value", inDim, 1, rng));
    this.advantage = this.addChild(new Dense("advantage", inDim, actions, rng));
  }

  /** @param x [n, in] features @returns [n, actions] Q-values */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    const a = this.advantage.apply(x);
    return tf.add(this.value.apply(x), tf.sub(a, tf.mean(a, -1, true))) as tf.Tensor2D;
  }
}
