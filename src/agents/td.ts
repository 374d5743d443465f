/**
 * TD-learning pieces shared by the DQN critic and the Q-Transformer: the (Double) DQN bootstrap
 * target, the Huber loss and action gathering. All are pure tfjs functions on batch tensors.
 */
import * as tf from "@tensorflow/tfjs";

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
    const next = qNextSelect ? gatherActions(qNextTarget, tf.argMax(qNextSelect, 1) as tf.Tensor1D) : (tf.max(qNextTarget, 1) as tf.Tensor1D);
    return tf.add(reward, tf.mul(discount, next)) as tf.Tensor1D;
  });
}

/** q[i, actions[i]] for each row. @param q [n, A] @param actions int32 [n] @returns [n] */
export function gatherActions(q: tf.Tensor2D, actions: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(q, tf.oneHot(tf.cast(actions, "int32"), q.shape[1])), 1) as tf.Tensor1D);
}

/** Element-wise Huber loss of residuals x with threshold δ: ½x² inside, δ(|x| − ½δ) outside. */
export function huber(x: tf.Tensor, delta: number): tf.Tensor {
  return tf.tidy(() => {
    const a = tf.abs(x);
    const quad = tf.minimum(a, delta);
    return tf.add(tf.mul(tf.square(quad), 0.5), tf.mul(tf.sub(a, quad), delta));
  });
}

/** Per-sample loss weights: IS weight · (1 − tanh(S)) when DISRC supplies surprises S, else the IS weight. */
export function lossWeights(isWeight: Float32Array, surprise: Float32Array | null): Float32Array {
  if (!surprise) return isWeight;
  const w = new Float32Array(isWeight.length);
  for (let i = 0; i < w.length; i++) w[i] = isWeight[i]! * (1 - Math.tanh(surprise[i]!));
  return w;
}
