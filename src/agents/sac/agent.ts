/**
 * Soft Actor-Critic (Haarnoja et al. 2018, "SAC v2" with automatic temperature), as CleanRL's
 * `sac_continuous_action.py` writes it: twin soft Q critics trained on
 *   y = r + γ^K (1 − done) · (min_j Q̄_j(s′, a′) − α log π(a′|s′)),  a′ ~ π(·|s′),
 * a tanh-squashed Gaussian policy trained on E[α log π(a|s) − min_j Q_j(s, a)] by the
 * reparameterisation a = tanh(μ + σ·ε)·scale + bias, and log α trained towards the target entropy.
 *
 * On the shared replay: n-step returns come from the buffer, the critic's loss is weighted by the
 * IS weights (and DISRC's 1 − tanh(S) when enabled), and the TD errors against the mean of the twin
 * critics drive priorities; half the twins' difference is reported as `tdStd`, the spread that the
 * `ensemble` reliability estimator reads.
 *
 * Exploration noise and the policy samples of an update come from Rngs (not tfjs's random ops), so a
 * run is reproducible on every backend and resumes exactly.
 */
import * as tf from "@tensorflow/tfjs";
import { mean } from "../../core/arrays.js";
import { ConfigError, DivergenceError } from "../../core/errors.js";
import { Rng, type RngState } from "../../core/rng.js";
import { sampleSpace, type Box } from "../../envs/spaces.js";
import { Mlp } from "../../nets/layers.js";
import type { ParamMap } from "../../nets/module.js";
import { Adam } from "../../nets/optim.js";
import { loadWeights, saveWeights } from "../../nets/weights.js";
import type { ReplaySpec, SampledBatch } from "../../replay/buffer.js";
import { SurpriseModel, surpriseWeights } from "../disrc.js";
import { requireBlob } from "../state.js";
import { bootstrapDiscount } from "../td.js";
import type { ActMode, Agent, AgentEnvSpec, AgentSettings, AgentState, ReplaySource, Scalars, UpdateResult } from "../types.js";
import { TargetUpdate } from "../weight-updates.js";
import type { SacConfig } from "./config.js";
import { SquashedGaussianPolicy } from "./policy.js";

export class SacAgent implements Agent {
  readonly kind = "sac";
  readonly obsDim: number;
  readonly actionDim: number;
  readonly actor: SquashedGaussianPolicy;
  readonly q1: Mlp;
  readonly q2: Mlp;
  readonly q1Target: Mlp;
  readonly q2Target: Mlp;
  readonly logAlpha: tf.Variable;
  readonly actorOptimizer: Adam;
  readonly criticOptimizer: Adam;
  readonly alphaOptimizer: Adam | null;
  readonly surprise: SurpriseModel | null;
  private readonly targets: TargetUpdate[];
  /** The twin critics' parameters (one optimiser), their targets', and log α's, as checkpoints name them. */
  private readonly criticParams: ParamMap;
  private readonly criticTargetParams: ParamMap;
  private readonly alphaParams: ParamMap;
  private readonly actionSpace: Box;
  private readonly targetEntropy: number;
  /** Draws the policy samples of updates (saved in checkpoints). */
  private readonly updateRng: Rng;
  updates = 0;

  constructor(readonly settings: AgentSettings<SacConfig>, spec: AgentEnvSpec, rng: Rng) {
    const { agent, disrc } = settings;
    if (spec.actionSpace.kind !== "box") throw new ConfigError(`the sac agent needs a continuous (Box) action space, got Discrete(${spec.actionSpace.n}); use agent.kind: dqn`);
    if (disrc.enabled && disrc.source === "tdm") {
      throw new ConfigError(`config key "disrc.source": got "tdm"; expected "model" or "setpoint" for the sac agent (it has no TDM)`);
    }
    const { actor, critic, entropy } = agent;
    if (!(actor.logStdMin < actor.logStdMax)) {
      throw new ConfigError(`config key "agent.actor.logStdMin": got ${actor.logStdMin}; expected less than agent.actor.logStdMax (${actor.logStdMax})`);
    }
    const box: Box = (this.actionSpace = spec.actionSpace);
    this.obsDim = spec.observationSpace.shape.reduce((a, b) => a * b, 1);
    this.actionDim = box.shape.reduce((a, b) => a * b, 1);
    // Half the box's width and its centre, per dimension: a = tanh(u)·scale + bias.
    const scale = new Float32Array(this.actionDim);
    const bias = new Float32Array(this.actionDim);
    for (let k = 0; k < this.actionDim; k++) {
      const lo = box.low[k]!;
      const hi = box.high[k]!;
      if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new ConfigError(`the sac agent needs a bounded action space; dimension ${k} is [${lo}, ${hi}]`);
      scale[k] = (hi - lo) / 2;
      bias[k] = (hi + lo) / 2;
    }
    this.actor = new SquashedGaussianPolicy("sac/actor", this.obsDim, { ...actor, scale, bias }, rng);
    const qNet = (name: string) => new Mlp(name, this.obsDim + this.actionDim, critic.hidden, 1, rng);
    this.q1 = qNet("sac/q1");
    this.q2 = qNet("sac/q2");
    this.q1Target = qNet("sac/q1");
    this.q2Target = qNet("sac/q2");
    const polyak = { mode: "polyak" as const, every: critic.targetEvery, tau: critic.tau };
    this.targets = [new TargetUpdate(this.q1, this.q1Target, polyak), new TargetUpdate(this.q2, this.q2Target, polyak)];
    const common = { eps: agent.adamEps, clipNorm: agent.clipNorm };
    this.actorOptimizer = new Adam(this.actor.params(), { ...common, lr: actor.lr });
    this.criticParams = new Map([...this.q1.params(), ...this.q2.params()]);
    this.criticTargetParams = new Map([...this.q1Target.params(), ...this.q2Target.params()]);
    this.criticOptimizer = new Adam(this.criticParams, { ...common, lr: critic.lr });
    this.logAlpha = tf.variable(tf.scalar(Math.log(entropy.auto ? entropy.initial : entropy.alpha)), true);
    this.alphaParams = new Map([["sac/log_alpha", this.logAlpha]]);
    this.alphaOptimizer = entropy.auto ? new Adam(this.alphaParams, { lr: entropy.lr, eps: agent.adamEps, clipNorm: null }) : null;
    this.targetEntropy = entropy.target ?? -this.actionDim;
    this.surprise = disrc.enabled ? new SurpriseModel(disrc, this.obsDim, this.actionDim, rng) : null;
    this.updateRng = rng.spawn();
  }

  /** The temperature α now. */
  get alpha(): number {
    return Math.exp(this.logAlpha.dataSync()[0]!);
  }

  act(obs: Float32Array, n: number, mode: ActMode, step: number, rng: Rng): Float32Array {
    const d = this.actionDim;
    if (mode === "explore" && step < this.settings.learningStarts) {
      // Before learning starts, uniform actions over the box (CleanRL, SB3), not the untrained policy's.
      const out = new Float32Array(n * d);
      for (let i = 0; i < n; i++) out.set(sampleSpace(this.actionSpace, rng) as Float32Array, i * d);
      return out;
    }
    const noise = mode === "explore" ? rng.fillNormal(new Float32Array(n * d)) : null;
    const a = tf.tidy(() => {
      const o = tf.tensor2d(obs, [n, this.obsDim]);
      return noise ? this.actor.sample(o, tf.tensor2d(noise, [n, d]), true).action : this.actor.mode(o);
    });
    const out = a.dataSync() as Float32Array;
    a.dispose();
    return out;
  }

  actScalars(): Scalars {
    return { "charts/alpha": this.alpha };
  }

  replaySpec(): ReplaySpec {
    return { obsDim: this.obsDim, action: { kind: "continuous", dim: this.actionDim }, gamma: this.settings.agent.gamma };
  }

  update(replay: ReplaySource): UpdateResult {
    const b = replay.sample(this.settings.batchSize);
    const scalars: Scalars = {};
    const { surprise, weights } = surpriseWeights(this.surprise, b, () => b.action as Float32Array, scalars);
    const critic = this.criticStep(b, weights);
    this.updates += 1;
    const { actor } = this.settings.agent;
    if (this.updates % actor.updateEvery === 0) {
      for (let k = 0; k < actor.updateEvery; k++) Object.assign(scalars, this.actorStep(b));
    }
    for (const t of this.targets) t.afterUpdate(this.updates);
    scalars["losses/td_loss"] = critic.loss;
    scalars["losses/q_values"] = critic.qMean;
    scalars["losses/grad_norm"] = critic.gradNorm;
    scalars["losses/alpha"] = this.alpha;
    return { indices: b.indices, sampledAt: b.sampledAt, info: b.info, tdError: critic.td, tdStd: critic.tdStd, surprise: surprise ?? undefined, scalars };
  }

  /** One Adam step of both critics on Σ_j mean(w · (Q_j(s, a) − y)²). */
  private criticStep(b: SampledBatch, weights: Float32Array) {
    const n = b.n;
    const d = this.actionDim;
    const noise = this.updateRng.fillNormal(new Float32Array(n * d));
    const alpha = this.alpha;
    const sa = tf.tidy(() => tf.concat([tf.tensor2d(b.obs, [n, this.obsDim]), tf.tensor2d(b.action as Float32Array, [n, d])], 1));
    const y = tf.tidy(() => {
      const next = tf.tensor2d(b.bootstrapObs, [n, this.obsDim]);
      const { action, logProb } = this.actor.sample(next, tf.tensor2d(noise, [n, d]), true);
      const nextSa = tf.concat([next, action], 1) as tf.Tensor2D;
      const minQ = tf.minimum(this.q1Target.infer(nextSa), this.q2Target.infer(nextSa)).reshape([n]);
      const soft = tf.sub(minQ, tf.mul(alpha, logProb));
      return tf.add(tf.tensor1d(b.returns), tf.mul(bootstrapDiscount(b), soft)) as tf.Tensor1D;
    });
    const w = tf.tensor1d(weights);
    try {
      const r = this.criticOptimizer.step(() => {
        const q1 = this.q1.apply(sa).reshape([n]);
        const q2 = this.q2.apply(sa).reshape([n]);
        const e1 = tf.sub(y, q1);
        const e2 = tf.sub(y, q2);
        const loss = tf.div(tf.sum(tf.mul(w, tf.add(tf.square(e1), tf.square(e2)))), n) as tf.Scalar;
        return { loss, aux: { td: tf.mul(0.5, tf.add(e1, e2)), spread: tf.mul(0.5, tf.abs(tf.sub(q1, q2))), q: tf.mul(0.5, tf.add(q1, q2)) } };
      });
      const qMean = mean(r.aux.q as Float32Array);
      if (!Number.isFinite(r.loss) || !Number.isFinite(qMean)) {
        throw new DivergenceError(`training diverged at update ${this.updates + 1}: critic loss ${r.loss}, mean Q ${qMean}`);
      }
      return { loss: r.loss, gradNorm: r.gradNorm, qMean, td: r.aux.td as Float32Array, tdStd: r.aux.spread as Float32Array };
    } finally {
      tf.dispose([sa, y, w]);
    }
  }

  /** One Adam step of the policy on mean(α log π(a|s) − min_j Q_j(s, a)), then one of log α. */
  private actorStep(b: SampledBatch): Scalars {
    const n = b.n;
    const d = this.actionDim;
    const alpha = this.alpha;
    const obs = tf.tensor2d(b.obs, [n, this.obsDim]);
    const noise = tf.tensor2d(this.updateRng.fillNormal(new Float32Array(n * d)), [n, d]);
    let r;
    try {
      r = this.actorOptimizer.step(() => {
        const { action, logProb } = this.actor.sample(obs, noise, false);
        const sa = tf.concat([obs, action], 1);
        // The critics are fixed here: only the gradient to their action input is computed.
        const minQ = tf.minimum(this.q1.apply(sa, true, false), this.q2.apply(sa, true, false)).reshape([n]);
        return { loss: tf.mean(tf.sub(tf.mul(alpha, logProb), minQ)) as tf.Scalar, aux: { logProb } };
      });
    } finally {
      tf.dispose([obs, noise]);
    }
    const logProbMean = mean(r.aux.logProb as Float32Array);
    if (!Number.isFinite(r.loss)) throw new DivergenceError(`training diverged at update ${this.updates}: policy loss ${r.loss}`);
    const scalars: Scalars = { "losses/actor_loss": r.loss, "losses/entropy": -logProbMean };
    if (this.alphaOptimizer) {
      // d/d log α of −log α · (log π + H̄), the policy's log π taken as a constant (SB3's form).
      const gap = logProbMean + this.targetEntropy;
      const a = this.alphaOptimizer.step(() => tf.mul(tf.neg(this.logAlpha), gap) as tf.Scalar);
      scalars["losses/alpha_loss"] = a.loss;
    }
    return scalars;
  }

  state(): AgentState {
    const blobs: Record<string, Uint8Array> = {
      actor: saveWeights(this.actor, this.actorOptimizer),
      critic: saveWeights(this.criticParams, this.criticOptimizer),
      critic_target: saveWeights(this.criticTargetParams),
      alpha: saveWeights(this.alphaParams, this.alphaOptimizer ?? undefined),
    };
    if (this.surprise) blobs.surprise = saveWeights(this.surprise.params(), this.surprise.adam ?? undefined);
    const meta = { kind: this.kind, updates: this.updates, updateRng: this.updateRng.state(), surprise: this.surprise?.meta() ?? null };
    return { blobs, meta };
  }

  load(state: AgentState): void {
    const need = (name: string) => requireBlob(state, name, "; is it a sac checkpoint?");
    loadWeights(need("actor"), this.actor, this.actorOptimizer, "actor weights");
    loadWeights(need("critic"), this.criticParams, this.criticOptimizer, "critic weights");
    loadWeights(need("critic_target"), this.criticTargetParams, undefined, "target critic weights");
    loadWeights(need("alpha"), this.alphaParams, this.alphaOptimizer ?? undefined, "temperature");
    if (this.surprise) {
      loadWeights(need("surprise"), this.surprise.params(), this.surprise.adam ?? undefined, "surprise model");
      this.surprise.loadMeta(state.meta.surprise as Record<string, unknown>);
    }
    this.updates = Number(state.meta.updates ?? 0);
    this.updateRng.setState(state.meta.updateRng as RngState);
  }

  parameterCounts(): Record<string, number> {
    const counts: Record<string, number> = { actor: this.actor.numParams(), critics: this.q1.numParams() + this.q2.numParams() };
    if (this.surprise) counts.surprise = this.surprise.numParams();
    return counts;
  }

  dispose(): void {
    for (const m of [this.actor, this.q1, this.q2, this.q1Target, this.q2Target]) m.dispose();
    for (const o of [this.actorOptimizer, this.criticOptimizer, this.alphaOptimizer]) o?.dispose();
    this.surprise?.dispose();
    this.logAlpha.dispose();
  }
}
