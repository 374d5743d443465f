/**
 * TDM training: the multi-step rollout loss on replay windows, and per-transition prediction
 * errors (the DISRC surprise source `tdm`).
 *
 * Rollout loss over a window of L steps with mask m_t, IS weight w_b per window:
 *   pass 1 feeds the true observations x¹_t = s_t (teacher forcing, the paper's loss);
 *   pass k > 1 feeds x^k_0 = s_0 and x^k_t = ŝ^{k−1}_t, the state pass k−1 predicted for step t,
 *   so the prediction of pass k at step t rests on a chain of up to k predicted states (a k-step
 *   open-loop rollout with the true actions, for every start in the window at once); gradients flow
 *   through the chain.
 *   ℓ^k_{b,t} = λ_s·mean_j (ŝ^k_{t+1,j} − s_{t+1,j})² + λ_r·(r̂^k_t − r_t)² + λ_d·BCE(d̂^k_t, d_t)
 *   L = Σ_k ρ^{k−1} · Σ_{b,t} w_b m_{b,t} ℓ^k_{b,t} / Σ_{b,t} m_{b,t}
 */
import * as tf from "@tensorflow/tfjs";
import { DivergenceError } from "../../core/errors.js";
import type { Rng } from "../../core/rng.js";
import { Adam } from "../../nets/optim.js";
import type { SequenceBatch } from "../../replay/buffer.js";
import { QTTDM_ADAM, type TdmTrainConfig } from "../qttdm/config.js";
import type { Scalars } from "../types.js";
import type { ActionBins } from "../qt/bins.js";
import { Tdm, type AgentActions, type TdmArch } from "./model.js";

export class TdmLearner {
  readonly model: Tdm;
  readonly optimizer: Adam;
  updates = 0;

  constructor(readonly cfg: TdmTrainConfig, readonly obsDim: number, readonly coder: ActionBins, arch: TdmArch, rng: Rng) {
    this.model = new Tdm("tdm", obsDim, coder, arch, rng);
    this.optimizer = new Adam(this.model.params(), { ...QTTDM_ADAM, lr: cfg.lr, weightDecay: cfg.weightDecay, clipNorm: cfg.clipNorm });
  }

  /** Replay actions (env units) → agent actions (ints or unit coordinates). */
  agentActions(actions: Int32Array | Float32Array, count: number): AgentActions {
    return this.coder.discrete ? Int32Array.from(actions) : this.coder.toUnit(actions, count);
  }

  /** One gradient step of the rollout loss on a window batch. */
  update(seq: SequenceBatch): Scalars {
    const { n: b, len: L } = seq;
    const D = this.obsDim;
    const K = this.cfg.rolloutSteps;
    const { stateWeight: ws, rewardWeight: wr, terminationWeight: wd, rolloutDiscount: rho } = this.cfg;
    const maskSum = seq.mask.reduce((a, v) => a + v, 0);
    const inputs = tf.tidy(() => {
      const mask = tf.tensor2d(Float32Array.from(seq.mask), [b, L]);
      return {
        obs: tf.tensor3d(seq.obs, [b, L, D]),
        next: tf.tensor3d(seq.nextObs, [b, L, D]),
        reward: tf.tensor2d(seq.reward, [b, L]),
        term: tf.tensor2d(Float32Array.from(seq.terminated), [b, L]),
        // Each step's loss weight: IS weight of its window × mask / number of valid steps.
        weight: tf.div(tf.mul(mask, tf.reshape(tf.tensor1d(seq.weights), [b, 1])), Math.max(1, maskSum)),
        act: this.model.actionInput(this.agentActions(seq.action, b * L), [b, L]),
      };
    });
    let result;
    try {
      result = this.optimizer.step(() => {
        let x = inputs.obs;
        let loss: tf.Tensor = tf.scalar(0);
        const aux: Record<string, tf.Tensor> = {};
        for (let k = 1; k <= K; k++) {
          const out = this.model.apply(x, inputs.act);
          const se = tf.mean(tf.square(tf.sub(out.nextObs, inputs.next)), 2);
          const re = tf.square(tf.sub(out.reward, inputs.reward));
          const z = out.termLogit;
          const te = tf.sub(tf.softplus(z), tf.mul(z, inputs.term));
          const part = (e: tf.Tensor) => tf.sum(tf.mul(e, inputs.weight));
          const lk = tf.add(tf.add(tf.mul(part(se), ws), tf.mul(part(re), wr)), tf.mul(part(te), wd));
          loss = tf.add(loss, tf.mul(lk, Math.pow(rho, k - 1)));
          if (k === 1) Object.assign(aux, { state: part(se), reward: part(re), term: part(te) });
          if (k === K && K > 1) aux.rollout = part(se);
          if (k < K) x = tf.concat([tf.slice(inputs.obs, [0, 0, 0], [b, 1, D]), tf.slice(out.nextObs, [0, 0, 0], [b, L - 1, D])], 1);
        }
        return { loss: loss as tf.Scalar, aux };
      });
    } finally {
      tf.dispose(inputs);
    }
    if (!Number.isFinite(result.loss)) throw new DivergenceError(`TDM training diverged at TDM update ${this.updates + 1}: loss ${result.loss}`);
    this.updates += 1;
    const scalars: Scalars = {
      "tdm/loss": result.loss,
      "tdm/state_loss": result.aux.state![0]!,
      "tdm/reward_loss": result.aux.reward![0]!,
      "tdm/termination_loss": result.aux.term![0]!,
      "tdm/grad_norm": result.gradNorm,
    };
    if (result.aux.rollout) scalars["tdm/rollout_state_loss"] = result.aux.rollout[0]!;
    return scalars;
  }

  /**
   * Per-transition one-step prediction error λ_s·mean_j (ŝ' − s')² + λ_r·(r̂ − r)², from a window of
   * one step (what the TDM sees at the start of every training window). No gradient.
   */
  predictionErrors(obs: Float32Array, actions: Int32Array | Float32Array, nextObs: Float32Array, reward: Float32Array, n: number): Float32Array {
    const D = this.obsDim;
    const e = tf.tidy(() => {
      const out = this.model.apply(tf.tensor3d(obs, [n, 1, D]), this.model.actionInput(this.agentActions(actions, n), [n, 1]));
      const se = tf.mean(tf.square(tf.sub(tf.reshape(out.nextObs, [n, D]), tf.tensor2d(nextObs, [n, D]))), 1);
      const re = tf.square(tf.sub(tf.reshape(out.reward, [n]), tf.tensor1d(reward)));
      return tf.add(tf.mul(se, this.cfg.stateWeight), tf.mul(re, this.cfg.rewardWeight));
    });
    const values = e.dataSync() as Float32Array;
    e.dispose();
    return values;
  }

  dispose(): void {
    this.model.dispose();
    this.optimizer.dispose();
  }
}
