/**
 * Incremental (KV-cached) inference through a `Transformer` of `src/nets`: feeding tokens a chunk at
 * a time gives the same outputs as one causal pass over the whole sequence, while each chunk only
 * computes its own tokens (the keys and values of earlier tokens are kept). Used where the TDM rolls
 * out step by step and where the QT picks one action dimension at a time; inference only (no
 * gradient flows through the cache).
 *
 * It reads the blocks' public sub-layers (ln1, attn.q/k/v/proj, ln2, fc1, fc2, lnf) and mirrors
 * `TransformerBlock.apply`: x + attn(ln1(x)); x + fc2(fc1(ln2(x))).
 */
import * as tf from "@tensorflow/tfjs";
import type { PositionEmbedding, Transformer } from "../../nets/layers.js";
import { cachedBlockFused, hasFused, type BlockWeights } from "../../nets/fused.js";
import type { Dense } from "../../nets/layers.js";
import { LEAKY_SLOPE, matMul } from "../../nets/ops.js";

export class KvCache {
  /** Per block: keys [b, heads, t, dh] and values [b, heads, t, dh] of the tokens fed so far. */
  private keys: tf.Tensor4D[] = [];
  private values: tf.Tensor4D[] = [];
  /** Tokens fed so far. */
  length = 0;
  /** The blocks' weights for the fused kernel, gathered at the first feed (null: the composed form runs). */
  private fused: BlockWeights[] | null | undefined;

  constructor(readonly body: Transformer, readonly pos: PositionEmbedding) {}

  /**
   * Feeds the next tokens (embeddings without positions) and returns their final hidden states
   * (after the last layer norm). The caller owns the result; the cache keeps its own tensors.
   * @param x [b, n, d]
   * @returns [b, n, d]
   */
  feed(x: tf.Tensor3D): tf.Tensor3D {
    const [b, n, d] = x.shape;
    return tf.tidy(() => tf.reshape(this.run(tf.reshape(x, [b * n, d]) as tf.Tensor2D, b, n), [b, n, d]) as tf.Tensor3D);
  }

  /**
   * `feed` of one token per row. @param x [b, d] @returns [b, d]
   */
  step(x: tf.Tensor2D): tf.Tensor2D {
    return this.run(x, x.shape[0], 1);
  }

  /**
   * The blocks on n new tokens per row, kept as matrices [b·n, d] (row-major over b, then n) so that the
   * dense and norm layers run without reshapes, through their gradient-free forms (`infer`): decoding makes
   * thousands of small calls per action, where each op's bookkeeping costs as much as its kernel.
   */
  private run(x: tf.Tensor2D, b: number, n: number): tf.Tensor2D {
    const d = x.shape[1];
    const start = this.length;
    const newKeys: tf.Tensor4D[] = [];
    const newValues: tf.Tensor4D[] = [];
    const out = tf.tidy(() => {
      const pos = tf.slice(this.pos.table, [start, 0], [n, d]);
      let h = (n === 1 ? tf.add(x, pos) : tf.reshape(tf.add(tf.reshape(x, [b, n, d]), pos), [b * n, d])) as tf.Tensor2D;
      if (this.fused === undefined) this.fused = this.fusedWeights();
      const fused = this.fused;
      this.body.blocks.forEach((blk, i) => {
        const { attn } = blk;
        if (fused) {
          const cache = start > 0 ? ([this.keys[i]!, this.values[i]!] as [tf.Tensor4D, tf.Tensor4D]) : null;
          const attrs = { b, n, heads: attn.heads, activation: blk.fc1.activation, eps: blk.ln1.eps, scale: 1 / Math.sqrt(attn.headDim), slope: LEAKY_SLOPE };
          const [next, k, v] = cachedBlockFused(h, fused[i]!, cache, attrs);
          newKeys.push(tf.keep(k));
          newValues.push(tf.keep(v));
          h = next;
          return;
        }
        const heads = attn.heads;
        const dh = attn.headDim;
        // [b·n, d] → [b, heads, n, dh]; for one token a reshape alone.
        const split = (t: tf.Tensor) => (n === 1 ? tf.reshape(t, [b, heads, 1, dh]) : tf.transpose(tf.reshape(t, [b, n, heads, dh]), [0, 2, 1, 3])) as tf.Tensor4D;
        const a = blk.ln1.infer(h);
        const q = split(tf.mul(attn.q.infer(a), 1 / Math.sqrt(dh)));
        let k = split(attn.k.infer(a));
        let v = split(attn.v.infer(a));
        if (start > 0) {
          k = tf.concat([this.keys[i]!, k], 2);
          v = tf.concat([this.values[i]!, v], 2);
        }
        newKeys.push(tf.keep(k));
        newValues.push(tf.keep(v));
        let scores = matMul(q, k, false, true);
        // One new token sees every cached one: no mask.
        if (n > 1) scores = tf.add(scores, chunkMask(start, n));
        const o = matMul(tf.softmax(scores), v);
        const merged = (n === 1 ? tf.reshape(o, [b, d]) : tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [b * n, d])) as tf.Tensor2D;
        h = tf.add(h, attn.proj.infer(merged)) as tf.Tensor2D;
        h = tf.add(h, blk.fc2.infer(blk.fc1.infer(blk.ln2.infer(h)))) as tf.Tensor2D;
      });
      return this.body.lnf.infer(h);
    });
    tf.dispose([...this.keys, ...this.values]);
    this.keys = newKeys;
    this.values = newValues;
    this.length = start + n;
    return out;
  }

  /** Per block its weights for the backend's fused block kernel, or null where the composed form must run. */
  private fusedWeights(): BlockWeights[] | null {
    if (!hasFused("QttdmCachedBlock")) return null;
    const pair = (l: Dense) => (l.bias ? ([l.kernel, l.bias] as [tf.Tensor2D, tf.Tensor1D]) : null);
    const out: BlockWeights[] = [];
    for (const blk of this.body.blocks) {
      const { q, k, v, proj } = blk.attn;
      const dense = [q, k, v, proj, blk.fc1, blk.fc2].map(pair);
      if (dense.some((p) => p === null) || blk.ln2.eps !== blk.ln1.eps || [q, k, v, proj, blk.fc2].some((l) => l.activation !== "linear")) return null;
      const [pq, pk, pv, pp, p1, p2] = dense as [tf.Tensor2D, tf.Tensor1D][];
      out.push({ ln1: [blk.ln1.gamma, blk.ln1.beta], q: pq!, k: pk!, v: pv!, proj: pp!, ln2: [blk.ln2.gamma, blk.ln2.beta], fc1: p1!, fc2: p2! });
    }
    return out;
  }

  dispose(): void {
    tf.dispose([...this.keys, ...this.values]);
    this.keys = [];
    this.values = [];
    this.length = 0;
  }
}

/** Additive mask [n, start + n]: new token i sees every earlier token and the new tokens ≤ i. */
function chunkMask(start: number, n: number): tf.Tensor2D {
  const m = new Float32Array(n * (start + n));
  for (let i = 0; i < n; i++) for (let j = start + i + 1; j < start + n; j++) m[i * (start + n) + j] = -1e9;
  return tf.tensor2d(m, [n, start + n]);
}
