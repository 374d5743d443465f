/**
 * Q-Transformer training on replay transitions (QT-TDM's targets, with the shared TD pieces of
 * `td.ts`). For a transition (s, a = (a_0 … a_{N−1}), n-step return R, bootstrap state s′):
 *   dimension k < N−1:  y_k = max_b Q̄(s, a_≤k)[k+1, b]                (the next dimension's value)
 *   last dimension:     y_{N−1} = R + γ^n (1 − d) max_b Q̄(s′)[0, b]    (the n-step TD target)
 * Q̄ is the minimum over the target network's heads; with `agent.double` the max is replaced by the
 * target value at the online network's argmax (Double DQN, as the critic). Loss: Huber(y_k − Q_h(s,
 * a_<k)[k, a_k]) averaged over dimensions, summed over heads, weighted per sample (IS · DISRC).
 */
import * as tf from "@tensorflow/tfjs";
import { mean } from "../../core/arrays.js";
import { DivergenceError } from "../../core/errors.js";
import type { Rng } from "../../core/rng.js";
import { Adam } from "../../nets/optim.js";
import type { SampledBatch } from "../../replay/buffer.js";
import { QTTDM_ADAM, type QtConfig } from "../qttdm/config.js";
import { bootstrapDiscount, gatherActions, huber, tdTarget } from "../td.js";
import type { Scalars } from "../types.js";
import { TargetUpdate } from "../weight-updates.js";
import type { ActionBins } from "./bins.js";
import { QTransformer } from "./model.js";

export interface QtLearnerOptions {
  double: boolean;
  huberDelta: number;
}

export interface QtUpdate {
  /** Signed TD error of the last dimension (the Bellman error) per sample, against the mean head. */
  tdError: Float32Array;
  /** Per-sample standard deviation of the heads' TD errors of the last dimension (twin heads), else null. */
  tdStd: Float32Array | null;
  scalars: Scalars;
}

export class QtLearner {
  readonly online: QTransformer;
  readonly target: QTransformer;
  readonly optimizer: Adam;
  private readonly targetUpdate: TargetUpdate;
  updates = 0;

  constructor(readonly cfg: QtConfig, readonly obsDim: number, readonly coder: ActionBins, readonly opts: QtLearnerOptions, rng: Rng) {
    this.online = new QTransformer("qt", obsDim, coder, cfg, rng);
    this.target = new QTransformer("qt", obsDim, coder, cfg, rng);
    this.targetUpdate = new TargetUpdate(this.online, this.target, { mode: "polyak", every: cfg.targetEvery, tau: cfg.targetTau });
    this.optimizer = new Adam(this.online.params(), { ...QTTDM_ADAM, lr: cfg.lr, weightDecay: cfg.weightDecay, clipNorm: cfg.clipNorm });
  }

  /**
   * One gradient step.
   * @param weights per-sample loss weights (IS weight · DISRC weight)
   * @param lossWeight the term's weight (`agent.joint.qtWeight`)
   * @param consistency optional returns G [n] that Q(s, a) (last dimension, every head) is regressed
   *   on with Huber loss, weighted like the TD term and by `weight` (the consistency term)
   */
  update(b: SampledBatch, weights: Float32Array, lossWeight: number, consistency?: { target: Float32Array; weight: number }): QtUpdate {
    const { n } = b;
    const N = this.online.dims;
    const A = this.online.bins;
    const D = this.obsDim;
    const bins = this.coder.replayToBins(b.action, n);
    const inputs = {
      obs: tf.tensor2d(b.obs, [n, D]),
      prefix: N > 1 ? this.online.prefixIds(bins, n, N - 1) : null,
      bins: tf.tensor1d(bins, "int32"),
      w: tf.tensor1d(weights),
      g: consistency ? tf.tensor1d(consistency.target) : null,
    };
    // Position k + 1 of the same state values dimension k + 1 given a_≤k: the target of dimension k.
    const later = (q: tf.Tensor3D) => tf.reshape(tf.slice(q, [0, 1, 0], [n, N - 1, A]), [n * (N - 1), A]) as tf.Tensor2D;
    const [yLast, inner = null] = tf.tidy((): tf.Tensor2D[] => {
      const next = tf.tensor2d(b.bootstrapObs, [n, D]);
      const discount = bootstrapDiscount(b);
      const first = (q: tf.Tensor3D) => tf.reshape(q, [n, A]) as tf.Tensor2D;
      const y1 = tdTarget(
        tf.tensor1d(b.returns),
        discount,
        first(this.target.minQ(next, null)),
        this.opts.double ? first(this.online.meanQ(next, null)) : null,
      );
      const last = tf.reshape(y1, [n, 1]) as tf.Tensor2D;
      return N > 1 ? [last, later(this.target.minQ(inputs.obs, inputs.prefix))] : [last];
    });
    let y: tf.Tensor2D | null = null;
    let result;
    try {
      result = this.optimizer.step(() => {
        const raw = this.online.apply(inputs.obs, inputs.prefix);
        // The inner targets' Double-DQN argmax reads the online Q of the same inputs as the loss: this forward pass,
        // not a second one (the same values; only an argmax of them enters the target, so no gradient flows there).
        y = tf.keep(
          inner === null
            ? yLast!
            : tf.concat(
                [
                  tf.reshape(tdTarget(tf.zeros([n * (N - 1)]), tf.ones([n * (N - 1)]), inner, this.opts.double ? later(tf.mul(tf.addN(raw), 1 / raw.length) as tf.Tensor3D) : null), [n, N - 1]),
                  yLast!,
                ],
                1,
              ),
        ) as tf.Tensor2D;
        const target = y;
        const qs = raw.map((q) => tf.reshape(gatherActions(tf.reshape(q, [n * N, A]), inputs.bins), [n, N]));
        let perSample: tf.Tensor = tf.zeros([n]);
        for (const q of qs) perSample = tf.add(perSample, tf.mean(huber(tf.sub(target, q), this.opts.huberDelta), 1));
        const last = (q: tf.Tensor) => tf.reshape(tf.slice(q, [0, N - 1], [n, 1]), [n]);
        const tdLoss = tf.div(tf.sum(tf.mul(inputs.w, perSample)), n);
        let loss = tf.mul(tdLoss, lossWeight);
        const aux: Record<string, tf.Tensor> = { tdLoss };
        if (inputs.g) {
          let c: tf.Tensor = tf.zeros([n]);
          for (const q of qs) c = tf.add(c, huber(tf.sub(inputs.g, last(q)), this.opts.huberDelta));
          aux.consistency = tf.div(tf.sum(tf.mul(inputs.w, c)), n);
          loss = tf.add(loss, tf.mul(aux.consistency, consistency!.weight));
        }
        const qLast = last(qs.length === 1 ? qs[0]! : tf.mul(tf.addN(qs), 1 / qs.length));
        aux.td = tf.sub(last(target), qLast);
        aux.q = qLast;
        // The heads' TD errors share the target: their spread is that of the heads' Q values.
        if (qs.length > 1) aux.tdStd = tf.sqrt(tf.moments(tf.stack(qs.map(last), 1), 1).variance);
        return { loss: loss as tf.Scalar, aux };
      });
    } finally {
      tf.dispose([inputs.obs, inputs.bins, inputs.w, yLast!, ...(inner ? [inner] : []), ...(y ? [y] : [])]);
      inputs.prefix?.dispose();
      inputs.g?.dispose();
    }
    const td = result.aux.td as Float32Array;
    const qMean = mean(result.aux.q as Float32Array);
    if (!Number.isFinite(result.loss) || !Number.isFinite(qMean)) {
      throw new DivergenceError(`QT training diverged at QT update ${this.updates + 1}: loss ${result.loss}, mean Q ${qMean}`);
    }
    this.updates += 1;
    this.targetUpdate.afterUpdate(this.updates);
    const scalars: Scalars = { "qt/td_loss": result.aux.tdLoss![0]!, "qt/q_values": qMean, "qt/grad_norm": result.gradNorm };
    if (result.aux.consistency) scalars["qt/consistency_loss"] = result.aux.consistency[0]!;
    return { tdError: td, tdStd: (result.aux.tdStd as Float32Array | undefined) ?? null, scalars };
  }

  dispose(): void {
    this.online.dispose();
    this.target.dispose();
    this.optimizer.dispose();
  }
}
