/**
 * The Q-Transformer: autoregressive Q-values over action dimensions.
 *
 * Input tokens [s, a_1, …, a_{N−1}]: a linear map of the observation, then the chosen bin of each
 * dimension but the last (dimension k's bin b is row k·bins + b of one stacked embedding table, the
 * same as a table per dimension), plus learned positions. Under the causal mask the output at
 * position k depends only on s and a_<k, and holds the Q-values of the `bins` choices of dimension k
 * (0-based). A discrete action space is one dimension: the input is [s] and the output Q(s, ·).
 * Heads are Linear–ReLU–Linear with the last layer at zero (paper); with `twinHeads` there are two,
 * averaged for acting and minimised in targets (clipped double Q).
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../../core/rng.js";
import { Dense, Embedding, Mlp, PositionEmbedding, Transformer } from "../../nets/layers.js";
import { Module } from "../../nets/module.js";
import { ConfigError } from "../../core/errors.js";
import type { QtConfig } from "../qttdm/config.js";
import { KvCache } from "../tdm/incremental.js";
import type { ActionBins } from "./bins.js";

export class QTransformer extends Module {
  readonly obsEmbed: Dense;
  readonly actEmbed: Embedding | null;
  readonly pos: PositionEmbedding;
  readonly body: Transformer;
  readonly heads: Mlp[];
  readonly dims: number;
  readonly bins: number;

  constructor(name: string, readonly obsDim: number, readonly coder: ActionBins, readonly cfg: QtConfig, rng: Rng) {
    super(name);
    if (cfg.width % cfg.heads !== 0) {
      throw new ConfigError(`config key "agent.qt": width ${cfg.width} is not divisible by heads ${cfg.heads}; expected heads to divide the width`);
    }
    this.dims = coder.dims;
    this.bins = coder.bins;
    const d = cfg.width;
    this.obsEmbed = this.addChild(new Dense("obs_embed", obsDim, d, rng));
    this.actEmbed = this.dims > 1 ? this.addChild(new Embedding("act_embed", (this.dims - 1) * this.bins, d, rng)) : null;
    this.pos = this.addChild(new PositionEmbedding("pos", this.dims, d, rng));
    this.body = this.addChild(new Transformer("gpt", { layers: cfg.layers, dim: d, heads: cfg.heads }, rng));
    this.heads = [];
    for (let h = 0; h < (cfg.twinHeads ? 2 : 1); h++) {
      this.heads.push(this.addChild(new Mlp(`q${h}`, d, [cfg.headHidden], this.bins, rng, { activation: "relu", lastInit: "zeros" })));
    }
  }

  /** Stacked-table ids of the bins of dimensions 0..t−1: bins [b * dims] (row-major) → int32 [b, t]. */
  prefixIds(bins: Int32Array, b: number, t: number): tf.Tensor2D {
    const ids = new Int32Array(b * t);
    for (let i = 0; i < b; i++) for (let k = 0; k < t; k++) ids[i * t + k] = k * this.bins + bins[i * this.dims + k]!;
    return tf.tensor2d(ids, [b, t], "int32");
  }

  /**
   * @param obs [b, obsDim]
   * @param prefix int32 [b, t] ids of the first t ≤ dims − 1 dimensions (from `prefixIds`), or null for t = 0
   * @returns per head [b, t + 1, bins]: position k holds the Q-values of dimension k
   */
  apply(obs: tf.Tensor2D, prefix: tf.Tensor2D | null): tf.Tensor3D[] {
    const b = obs.shape[0];
    const d = this.cfg.width;
    let tokens = tf.reshape(this.obsEmbed.apply(obs), [b, 1, d]) as tf.Tensor3D;
    if (prefix && prefix.shape[1] > 0) tokens = tf.concat([tokens, this.actEmbed!.apply(prefix) as tf.Tensor3D], 1);
    const h = this.body.apply(this.pos.apply(tokens));
    return this.heads.map((head) => head.apply(h) as tf.Tensor3D);
  }

  /** Mean over heads (acting) of `apply`. */
  meanQ(obs: tf.Tensor2D, prefix: tf.Tensor2D | null): tf.Tensor3D {
    const qs = this.apply(obs, prefix);
    return (qs.length === 1 ? qs[0]! : tf.mul(tf.addN(qs), 1 / qs.length)) as tf.Tensor3D;
  }

  /** Min over heads (targets) of `apply`. */
  minQ(obs: tf.Tensor2D, prefix: tf.Tensor2D | null): tf.Tensor3D {
    const qs = this.apply(obs, prefix);
    return qs.slice(1).reduce((a, q) => tf.minimum(a, q) as tf.Tensor3D, qs[0]!);
  }

  /**
   * Greedy bins, one dimension at a time: dimension k is the argmax of the mean Q at position k given
   * the greedy bins of dimensions < k.
   * `noise(row, dim)` may return a bin that replaces the greedy one (exploration, planner proposals).
   * @returns bins [b * dims]
   */
  greedyBins(obs: tf.Tensor2D, noise?: (row: number, dim: number) => number | null): Int32Array {
    const b = obs.shape[0];
    const N = this.dims;
    const out = new Int32Array(b * N);
    // One token per dimension through a KV cache: the same values as `meanQ` on the growing prefix.
    const cache = new KvCache(this.body, this.pos);
    try {
      for (let k = 0; k < N; k++) {
        const best = tf.tidy(() => {
          let token: tf.Tensor2D;
          if (k === 0) token = this.obsEmbed.infer(obs);
          else {
            const ids = new Int32Array(b);
            for (let i = 0; i < b; i++) ids[i] = (k - 1) * this.bins + out[i * N + k - 1]!;
            token = this.actEmbed!.apply(tf.tensor1d(ids, "int32")) as tf.Tensor2D;
          }
          const h = cache.step(token);
          const qs = this.heads.map((head) => head.infer(h));
          return tf.argMax(qs.length === 1 ? qs[0]! : tf.addN(qs), 1);
        });
        const a = best.dataSync() as Int32Array;
        best.dispose();
        for (let i = 0; i < b; i++) out[i * N + k] = (noise ? noise(i, k) : null) ?? a[i]!;
      }
    } finally {
      cache.dispose();
    }
    return out;
  }

  /**
   * V(s) = max over dimension 0's bins of the mean Q (the QT's state value), without a gradient: the one
   * observation token through a KV cache (for planning, which asks for it every iteration). @returns [b]
   */
  value(obs: tf.Tensor2D): tf.Tensor1D {
    const cache = new KvCache(this.body, this.pos);
    try {
      return tf.tidy(() => {
        const h = cache.step(this.obsEmbed.infer(obs));
        const qs = this.heads.map((head) => head.infer(h));
        return tf.max(qs.length === 1 ? qs[0]! : tf.mul(tf.addN(qs), 1 / qs.length), 1) as tf.Tensor1D;
      });
    } finally {
      cache.dispose();
    }
  }
}
