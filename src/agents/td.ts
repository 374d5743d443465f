/**
 * TD-learning pieces shared by the DQN critic and the Q-Transformer: the (Double) DQN bootstrap
 * target and the per-sample loss weights. All are pure tfjs functions on batch tensors.
 */
import * as tf from "@tensorflow/tfjs";
import { huber, selectColumns } from "../nets/ops.js";

// The critic and the QT share these from the fast-ops module (one home for each op).
export { huber, selectColumns as gatherActions };

/**
 * y = r + discount · Q_target(s′, a*), a* = argmax_a Q_select(s′, a) (Double DQN) or argmax of
 * Q_target itself when `qNextSelect` is null (vanilla DQN's max).
 * @param reward [n] (n-step return when the replay computes one)
 * @param discount [n] γ^k · (1 − terminated): zero where the episode terminated (truncation bootstraps)
 * @param qNextTarget [n, A] target-network values at the bootstrap state
 * @param qNextSelect [n, A] online-network values at the bootstrap state, or null
 */
export function tdTarget(reward: tf.Tensor1D, discount: tf.Tensor1D, qNextTarget: tf.Tensor2D, qNextSelect: tf.Tensor2D | null): tf.Tensor1D {
  return tf.tidy(() => {
    const next = qNextSelect ? selectColumns(qNextTarget, tf.argMax(qNextSelect, 1) as tf.Tensor1D) : (tf.max(qNextTarget, 1) as tf.Tensor1D);
    return tf.add(reward, tf.mul(discount, next)) as tf.Tensor1D;
  });
}

/** γ^K · (1 − done) [n] of a replay batch's n-step pieces: zero where the K-th step terminated (call inside a tidy). */
export function bootstrapDiscount(b: { discount: Float32Array; done: Uint8Array }): tf.Tensor1D {
  return tf.mul(tf.tensor1d(b.discount), tf.sub(1, tf.tensor1d(b.done, "float32"))) as tf.Tensor1D;
}

/** Per-sample loss weights: IS weight · (1 − tanh(S)) when DISRC supplies surprises S, else the IS weight. */
export function lossWeights(isWeight: Float32Array, surprise: Float32Array | null): Float32Array {
  if (!surprise) return isWeight;
  const w = new Float32Array(isWeight.length);
  for (let i = 0; i < w.length; i++) w[i] = isWeight[i]! * (1 - Math.tanh(surprise[i]!));
  return w;
}
