/**
 * The DQN critic agent: Double DQN (or vanilla) targets, Huber loss, Adam with separate encoder and
 * head learning rates and global-norm clipping, a target network (hard copy or Polyak), ε-greedy
 * exploration on a schedule, optional dueling head, optional DISRC loss scaling, optional value-churn
 * reduction (CHAIN), an optional weight average that the greedy policy acts with, a choice of
 * the network that the ε-greedy behaviour policy acts with, and an optional ensemble of K Q-heads
 * (each with its own Double-DQN target and bootstrap mask) whose TD-error spread feeds the replay's
 * `ensemble` reliability.
 */
import * as tf from "@tensorflow/tfjs";
import { mean, oneHot } from "../../core/arrays.js";
import { ConfigError, DivergenceError } from "../../core/errors.js";
import type { Rng } from "../../core/rng.js";
import type { ScheduleSpec } from "../../core/schedule.js";
import { Adam, type LossOutput } from "../../nets/optim.js";
import { copyWeights, decodeArrays, loadWeights, saveWeights } from "../../nets/weights.js";
import { SurpriseModel, surpriseWeights } from "../disrc.js";
import { requireBlob } from "../state.js";
import { EpsilonSchedule } from "../exploration.js";
import { bootstrapDiscount, gatherActions, huber, tdTarget } from "../td.js";
import type { ReplaySpec, SampledBatch } from "../../replay/buffer.js";
import type { ActMode, Agent, AgentEnvSpec, AgentSettings, AgentState, ReplaySource, Scalars, UpdateResult } from "../types.js";
import { TargetUpdate, WeightAverage } from "../weight-updates.js";
import type { CriticConfig, LrDecayConfig } from "./config.js";
import { QNetwork } from "./q-network.js";

/** Index of the head's parameter group in the critic's optimiser (the encoder's is 0). */
const HEAD_GROUP = 1;

/** Churn reduction's reference batch for one update. */
interface ChurnReference {
  states: tf.Tensor2D;
  /** The previous network's Q on `states`. */
  before: tf.Tensor2D;
  /** λ of this update. */
  coef: number;
}

/** What one gradient step of the critic measured. */
interface CriticStep {
  loss: number;
  gradNorm: number;
  /** Per-sample TD error y − Q(s, a) (the heads' mean). */
  td: Float32Array;
  /** Per-sample standard deviation of the heads' TD errors (K > 1). */
  tdStd: Float32Array | null;
  q: Float32Array;
  tdLoss: number;
  churnLoss: number;
}

export class DqnAgent implements Agent {
  readonly kind = "dqn";
  readonly online: QNetwork;
  readonly target: QNetwork;
  readonly optimizer: Adam;
  readonly surprise: SurpriseModel | null;
  /** The online network before its last update (churn reduction's reference), or null when that is off. */
  readonly previous: QNetwork | null;
  /** The weight average of the online network that the greedy policy acts with, or null when that is off. */
  readonly average: QNetwork | null;
  /** The network the ε-greedy behaviour policy acts with (agent.exploration.network). */
  private readonly behaviour: QNetwork;
  readonly obsDim: number;
  readonly numActions: number;
  private readonly epsilon: EpsilonSchedule;
  private readonly targetUpdate: TargetUpdate;
  private readonly averaging: WeightAverage | null;
  /** Q-heads K (agent.network.heads). */
  readonly heads: number;
  /** Salt of the bootstrap masks, or null when every head trains on every sample. */
  private readonly maskSalt: number | null;
  /** Gradient updates done. */
  updates = 0;
  /** Running means of the TD and churn losses (churn mode auto), over `count` updates so far. */
  private churnMeans = { count: 0, td: 0, churn: 0 };

  constructor(readonly settings: AgentSettings<CriticConfig>, spec: AgentEnvSpec, rng: Rng) {
    const { agent, disrc } = settings;
    if (spec.actionSpace.kind !== "discrete") {
      throw new ConfigError(`the dqn agent needs a discrete action space, got a Box; use agent.kind: sac or qttdm for continuous control`);
    }
    if (disrc.enabled && disrc.source === "tdm") {
      throw new ConfigError(`config key "disrc.source": got "tdm"; expected "model" or "setpoint" for the dqn agent (it has no TDM)`);
    }
    this.obsDim = spec.observationSpace.shape.reduce((a, b) => a * b, 1);
    this.numActions = spec.actionSpace.n;
    const network = () => new QNetwork("q", this.obsDim, this.numActions, agent.network, rng);
    this.online = network();
    this.target = network();
    this.targetUpdate = new TargetUpdate(this.online, this.target, agent.target);
    this.previous = agent.churn.mode === "off" ? null : network();
    if (this.previous) copyWeights(this.online, this.previous);
    const headParams = new Map([...this.online.params()].filter(([name]) => !name.startsWith("q/encoder/")));
    this.optimizer = new Adam(
      [
        { name: "encoder", params: this.online.encoder.params(), lr: decayed(agent.encoderLr ?? agent.lr, agent.lrDecay, settings.totalUpdates) },
        { name: "head", params: headParams, lr: decayed(agent.lr, agent.lrDecay, settings.totalUpdates) },
      ],
      { lr: agent.lr, eps: agent.adamEps, clipNorm: agent.clipNorm },
    );
    this.surprise = disrc.enabled ? new SurpriseModel(disrc, this.obsDim, this.numActions, rng) : null;
    // Built last so that the other networks draw the same initial weights with or without it.
    const horizon = agent.average?.horizon ?? null;
    this.average = horizon === null ? null : network();
    this.averaging = this.average ? new WeightAverage(this.online, this.average, horizon!) : null;
    const ex = agent.exploration;
    if (ex.network === "average" && !this.average) {
      throw new ConfigError(`config key "agent.exploration.network": got "average" while agent.average.horizon is null; expected "online" or "target", or set agent.average.horizon`);
    }
    this.behaviour = ex.network === "target" ? this.target : ex.network === "average" ? this.average! : this.online;
    this.epsilon = new EpsilonSchedule(ex, settings.totalSteps);
    this.heads = agent.network.heads;
    // Drawn last, and only with masks, so that every other draw is the same as without them.
    this.maskSalt = this.heads > 1 && agent.network.headMask < 1 ? rng.integers(0, 2 ** 31) : null;
  }

  epsilonAt(step: number): number {
    return this.epsilon.at(step);
  }

  act(obs: Float32Array, n: number, mode: ActMode, step: number, rng: Rng): Int32Array {
    const out = new Int32Array(n);
    const eps = mode === "explore" ? this.epsilonAt(step) : 0;
    // Draw the exploration coins first so the random stream does not depend on the network.
    let needGreedy = false;
    for (let i = 0; i < n; i++) {
      if (eps > 0 && rng.random() < eps) out[i] = rng.integers(0, this.numActions);
      else {
        out[i] = -1;
        needGreedy = true;
      }
    }
    if (!needGreedy) return out;
    const net = mode === "explore" ? this.behaviour : mode === "greedy" ? (this.average ?? this.online) : this.online;
    const greedy = this.greedy(obs, n, net);
    for (let i = 0; i < n; i++) if (out[i] === -1) out[i] = greedy[i]!;
    return out;
  }

  /** argmax_a Q(s, a) for each row, by the online network unless told otherwise. */
  greedy(obs: Float32Array, n: number, net: QNetwork = this.online): Int32Array {
    const a = tf.tidy(() => tf.argMax(net.apply(tf.tensor2d(obs, [n, this.obsDim])), 1));
    const values = a.dataSync() as Int32Array;
    a.dispose();
    return values;
  }

  /** Q-values [n * numActions] (for inspection and tests). */
  qValues(obs: Float32Array, n: number): Float32Array {
    const q = tf.tidy(() => this.online.apply(tf.tensor2d(obs, [n, this.obsDim])));
    const values = q.dataSync() as Float32Array;
    q.dispose();
    return values;
  }

  actScalars(step: number): Scalars {
    return { "charts/epsilon": this.epsilonAt(step) };
  }

  replaySpec(): ReplaySpec {
    return { obsDim: this.obsDim, action: { kind: "discrete", n: this.numActions }, gamma: this.settings.agent.gamma };
  }

  update(replay: ReplaySource): UpdateResult {
    const b = replay.sample(this.settings.batchSize);
    const scalars: Scalars = {};
    const { surprise, weights } = surpriseWeights(this.surprise, b, () => oneHot(b.action, b.n, this.numActions), scalars);
    scalars["charts/learning_rate"] = this.optimizer.learningRate(HEAD_GROUP);
    const churn = this.previous ? this.churnReference(replay) : null;
    const step = this.gradientStep(b, weights, churn);
    const qMean = mean(step.q);
    this.checkFinite(step.loss, qMean);
    this.updates += 1;
    this.targetUpdate.afterUpdate(this.updates);
    this.averaging?.afterUpdate(this.updates);
    if (churn) {
      this.observeChurn(step.tdLoss, step.churnLoss);
      scalars["losses/churn_loss"] = step.churnLoss;
      scalars["losses/churn_coef"] = churn.coef;
    }
    scalars["losses/td_loss"] = step.tdLoss;
    scalars["losses/q_values"] = qMean;
    scalars["losses/grad_norm"] = step.gradNorm;
    return { indices: b.indices, sampledAt: b.sampledAt, info: b.info, tdError: step.td, tdStd: step.tdStd ?? undefined, surprise: surprise ?? undefined, scalars };
  }

  /**
   * n-step (Double) DQN targets from the replay's pieces: y = returns + γ^K (1 − done) Q(bootstrapObs, ·);
   * [n], or [n, heads] with an ensemble, each head's from its own online argmax and target values.
   */
  private tdTargets(b: SampledBatch): tf.Tensor {
    return tf.tidy(() => {
      const next = tf.tensor2d(b.bootstrapObs, [b.n, this.obsDim]);
      const discount = bootstrapDiscount(b);
      const returns = tf.tensor1d(b.returns);
      const double = this.settings.agent.double;
      if (this.heads === 1) return tdTarget(returns, discount, this.target.apply(next), double ? this.online.apply(next) : null);
      const target = this.target.applyHeads(next);
      const best = tf.argMax(double ? this.online.applyHeads(next) : target, 2);
      const value = tf.sum(tf.mul(target, tf.oneHot(best, this.numActions)), 2);
      // Reshapes rather than expandDims, which the libtorch backend has no kernel for.
      return tf.add(tf.reshape(returns, [b.n, 1]), tf.mul(tf.reshape(discount, [b.n, 1]), value));
    });
  }

  /**
   * Per-sample loss weights as a tensor: [n], or [n, heads] with an ensemble, where head k's weight is the
   * sample's times its bootstrap mask, over K (so that the loss keeps the scale of one head's).
   */
  private weightTensor(b: SampledBatch, weights: Float32Array): tf.Tensor {
    if (this.heads === 1) return tf.tensor1d(weights);
    const K = this.heads;
    const p = this.settings.agent.network.headMask;
    const w = new Float32Array(b.n * K);
    for (let i = 0; i < b.n; i++) {
      for (let k = 0; k < K; k++) {
        const kept = this.maskSalt === null || slotUniform(b.indices[i]!, k, this.maskSalt) < p;
        w[i * K + k] = kept ? weights[i]! / K : 0;
      }
    }
    return tf.tensor2d(w, [b.n, K]);
  }

  /** One Adam step on the weighted Huber TD loss, plus the churn term when churn reduction is on. */
  private gradientStep(b: SampledBatch, weights: Float32Array, churn: ChurnReference | null): CriticStep {
    const obs = tf.tensor2d(b.obs, [b.n, this.obsDim]);
    const actions = tf.tensor1d(Int32Array.from(b.action), "int32");
    const w = this.weightTensor(b, weights);
    const y = this.tdTargets(b);
    const delta = this.settings.agent.huberDelta;
    try {
      const r = this.optimizer.step((): LossOutput => {
        const q = this.takenQ(obs, actions);
        const td = tf.sub(y, q);
        const tdLoss = tf.div(tf.sum(tf.mul(w, huber(td, delta))), b.n) as tf.Scalar;
        const aux: Record<string, tf.Tensor> = this.heads === 1 ? { td, q } : { ...headMoments(td), q: tf.mean(q, 1) };
        if (!churn) return { loss: tdLoss, aux };
        const churnLoss = tf.mean(tf.squaredDifference(this.online.apply(churn.states), churn.before)) as tf.Scalar;
        return { loss: tf.add(tdLoss, tf.mul(churnLoss, churn.coef)) as tf.Scalar, aux: { ...aux, tdLoss, churnLoss } };
      });
      const aux = r.aux as Record<string, Float32Array>;
      return {
        loss: r.loss,
        gradNorm: r.gradNorm,
        td: aux.td!,
        tdStd: aux.tdStd ?? null,
        q: aux.q!,
        tdLoss: churn ? aux.tdLoss![0]! : r.loss,
        churnLoss: churn ? aux.churnLoss![0]! : 0,
      };
    } finally {
      tf.dispose([obs, actions, w, y]);
      if (churn) tf.dispose([churn.states, churn.before]);
    }
  }

  /** The online Q of the taken actions: [n], or [n, heads] with an ensemble. */
  private takenQ(obs: tf.Tensor2D, actions: tf.Tensor1D): tf.Tensor {
    if (this.heads === 1) return gatherActions(this.online.apply(obs), actions);
    return tf.sum(tf.mul(this.online.applyHeads(obs), tf.reshape(tf.oneHot(actions, this.numActions), [obs.shape[0], 1, this.numActions])), 2);
  }

  probeLosses(b: SampledBatch): Float32Array {
    const losses = tf.tidy(() => {
      const y = this.tdTargets(b);
      const obs = tf.tensor2d(b.obs, [b.n, this.obsDim]);
      const actions = tf.tensor1d(Int32Array.from(b.action), "int32");
      const perSample = huber(tf.sub(y, this.takenQ(obs, actions)), this.settings.agent.huberDelta);
      return this.heads === 1 ? perSample : tf.mean(perSample, 1);
    });
    const values = losses.dataSync() as Float32Array;
    losses.dispose();
    return values;
  }

  /** Stops the run on a non-finite loss or Q, or a mean Q outside ±agent.maxAbsQ. */
  private checkFinite(loss: number, qMean: number): void {
    if (!Number.isFinite(loss) || !Number.isFinite(qMean)) {
      throw new DivergenceError(`training diverged at update ${this.updates + 1}: loss ${loss}, mean Q ${qMean}`);
    }
    const { maxAbsQ } = this.settings.agent;
    if (maxAbsQ !== null && Math.abs(qMean) > maxAbsQ) {
      throw new DivergenceError(`training diverged at update ${this.updates + 1}: mean Q ${qMean} of the sampled batch is outside ±agent.maxAbsQ = ${maxAbsQ}`);
    }
  }

  /**
   * Reference states drawn uniformly from the replay, the previous network's Q on them and this
   * update's λ; then the previous network moves on to the current weights, which this update changes.
   */
  private churnReference(replay: ReplaySource): ChurnReference {
    const { churn } = this.settings.agent;
    const n = churn.batchSize ?? this.settings.batchSize;
    const states = tf.tensor2d(replay.sampleObservations(n), [n, this.obsDim]);
    const before = tf.tidy(() => this.previous!.apply(states));
    copyWeights(this.online, this.previous!);
    const m = this.churnMeans;
    const coef = churn.mode === "auto" && m.churn > 0 ? (churn.scale * m.td) / m.churn : churn.weight;
    return { states, before, coef };
  }

  /** Running means: exact over the first `horizon` updates, exponential with rate 1/horizon after. */
  private observeChurn(tdLoss: number, churnLoss: number): void {
    const m = this.churnMeans;
    m.count += 1;
    const rate = 1 / Math.min(m.count, this.settings.agent.churn.horizon);
    m.td += (tdLoss - m.td) * rate;
    m.churn += (churnLoss - m.churn) * rate;
  }

  state(): AgentState {
    const blobs: Record<string, Uint8Array> = {
      online: saveWeights(this.online, this.optimizer),
      target: saveWeights(this.target),
    };
    if (this.surprise) blobs.surprise = saveWeights(this.surprise.params(), this.surprise.adam ?? undefined);
    if (this.previous) blobs.previous = saveWeights(this.previous);
    if (this.average) blobs.average = saveWeights(this.average);
    const meta = { kind: this.kind, updates: this.updates, surprise: this.surprise?.meta() ?? null, churnMeans: { ...this.churnMeans } };
    return { blobs, meta };
  }

  load(state: AgentState): void {
    const need = (name: string) => requireBlob(state, name);
    loadWeights(need("online"), this.online, this.optimizer, "online weights");
    loadWeights(need("target"), this.target, undefined, "target weights");
    if (this.surprise) {
      loadWeights(need("surprise"), this.surprise.params(), this.surprise.adam ?? undefined, "surprise model");
      this.surprise.loadMeta(state.meta.surprise as Record<string, unknown>);
    }
    if (this.previous) {
      loadWeights(need("previous"), this.previous, undefined, "previous weights (agent.churn)");
      const m = state.meta.churnMeans as typeof this.churnMeans | undefined;
      if (!m) throw new ConfigError(`agent state has no churn statistics; it was saved with agent.churn.mode off`);
      this.churnMeans = { ...m };
    }
    if (this.average) loadWeights(need("average"), this.average, undefined, "average weights (agent.average)");
    this.updates = Number(state.meta.updates ?? 0);
  }

  /** Loads only the encoder's parameters from another agent's state (`agent.encoderInit`). */
  loadEncoder(state: AgentState): void {
    const online = state.blobs.online;
    if (!online) throw new ConfigError(`encoderInit: the checkpoint has no online weights`);
    const encoderOnly = new Map([...this.online.params()].filter(([name]) => name.startsWith("q/encoder/")));
    loadWeightsSubset(online, encoderOnly);
    copyWeights(this.online, this.target);
    if (this.previous) copyWeights(this.online, this.previous);
    if (this.average) copyWeights(this.online, this.average);
  }

  parameterCounts(): Record<string, number> {
    const counts: Record<string, number> = { critic: this.online.numParams() };
    if (this.surprise) counts.surprise = this.surprise.numParams();
    return counts;
  }

  dispose(): void {
    this.online.dispose();
    this.target.dispose();
    this.previous?.dispose();
    this.average?.dispose();
    this.optimizer.dispose();
    this.surprise?.dispose();
  }
}

function loadWeightsSubset(bytes: Uint8Array, params: Map<string, tf.Variable>): void {
  // The file holds the whole network; keep only the requested parameters' arrays.
  const { arrays } = decodeArrays(bytes, "encoderInit checkpoint");
  tf.tidy(() => {
    for (const [name, v] of params) {
      const a = arrays.get(`params/${name}`);
      if (!a) throw new ConfigError(`encoderInit: the checkpoint has no parameter ${name}`);
      if (a.shape.join("x") !== v.shape.join("x")) {
        throw new ConfigError(`encoderInit: ${name} has shape [${a.shape}] in the checkpoint, the model expects [${v.shape}]`);
      }
      v.assign(tf.tensor(a.data, a.shape, "float32"));
    }
  });
}

/** Mean and standard deviation over the heads of per-head TD errors [n, heads]: `td` and `tdStd` [n]. */
function headMoments(td: tf.Tensor): { td: tf.Tensor; tdStd: tf.Tensor } {
  const { mean, variance } = tf.moments(td, 1);
  return { td: mean, tdStd: tf.sqrt(variance) };
}

/**
 * A uniform number in [0, 1) fixed by a replay slot, a head and a salt (a 32-bit integer hash), so that a
 * bootstrap mask needs no storage in the replay and is the same each time the slot is drawn.
 */
function slotUniform(slot: number, head: number, salt: number): number {
  let h = (Math.imul(slot, 0x9e3779b1) ^ Math.imul(head + 1, 0x85ebca77) ^ salt) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
}

/** A learning rate as the optimiser takes it: constant, or decayed over the run's updates. */
function decayed(lr: number, decay: LrDecayConfig, totalUpdates: number): number | ScheduleSpec {
  if (decay.shape === "constant") return lr;
  return { kind: decay.shape, start: lr, end: lr * decay.endFactor, duration: Math.round(decay.fraction * totalUpdates) };
}
