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
import { matMul } from "../../nets/ops.js";

export class KvCache {
  /** Per block: keys [b, heads, t, dh] and values [b, heads, t, dh] of the tokens fed so far. */
  private keys: tf.Tensor4D[] = [];
  private values: tf.Tensor4D[] = [];
  /** Tokens fed so far. */
  length = 0;

  constructor(readonly body: Transformer, readonly pos: PositionEmbedding) {}

  /**
   * Feeds the next tokens (embeddings without positions) and returns their final hidden states
   * (after the last layer norm). The caller owns the result; the cache keeps its own tensors.
   * @param x [b, n, d]
   * @returns [b, n, d]
   */
  feed(x: tf.Tensor3D): tf.Tensor3D {
    const [b, n, d] = x.shape;
    const start = this.length;
    const newKeys: tf.Tensor4D[] = [];
    const newValues: tf.Tensor4D[] = [];
    const out = tf.tidy(() => {
      let h = tf.add(x, tf.slice(this.pos.table, [start, 0], [n, d])) as tf.Tensor3D;
      const mask = chunkMask(start, n);
      this.body.blocks.forEach((blk, i) => {
        const { attn } = blk;
        const heads = attn.heads;
        const dh = attn.headDim;
        const split = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [b, n, heads, dh]), [0, 2, 1, 3]) as tf.Tensor4D;
        const a = blk.ln1.apply(h);
        const q = split(tf.mul(attn.q.apply(a), 1 / Math.sqrt(dh)));
        let k = split(attn.k.apply(a));
        let v = split(attn.v.apply(a));
        if (start > 0) {
          k = tf.concat([this.keys[i]!, k], 2);
          v = tf.concat([this.values[i]!, v], 2);
        }
        newKeys.push(tf.keep(k));
        newValues.push(tf.keep(v));
        const scores = tf.add(matMul(q, tf.transpose(k, [0, 1, 3, 2])), mask);
        const o = tf.reshape(tf.transpose(matMul(tf.softmax(scores), v), [0, 2, 1, 3]), [b, n, d]);
        h = tf.add(h, attn.proj.apply(o)) as tf.Tensor3D;
        h = tf.add(h, blk.fc2.apply(blk.fc1.apply(blk.ln2.apply(h)))) as tf.Tensor3D;
      });
      return this.body.lnf.apply(h) as tf.Tensor3D;
    });
    tf.dispose([...this.keys, ...this.values]);
    this.keys = newKeys;
    this.values = newValues;
    this.length = start + n;
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
