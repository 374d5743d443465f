/**
 * The QT-TDM agent: a Transformer Dynamics Model, an autoregressive Q-Transformer and (for
 * discrete actions) the DQN critic, trained together from one replay buffer; actions from the
 * MPPI planner over the TDM, the greedy QT or the greedy critic.
 *
 * One `update`:
 *  1. draws a transition batch (the draw whose indices get new priorities);
 *  2. DISRC (when enabled): surprise S from the TDM's one-step prediction error on that batch
 *     (`disrc.source: tdm`) or from the separate surprise model; per-sample loss weight
 *     IS · (1 − tanh S), shared by the critic's and the QT's TD losses;
 *  3. the critic's Double-DQN step (DqnAgent, fed the drawn batch with those weights);
 *  4. the QT's step (optionally with the consistency term: Q(s, a) regressed on the TDM-predicted
 *     return of an H-step segment that starts with a and follows the greedy policy);
 *  5. the TDM's rollout-loss step on a separate draw of windows of `context` steps;
 *  and reports the TD errors chosen by `agent.joint.priority` for the batch of step 1.
 *
 * With `agent.joint.observations: symlog` every network (critic, QT, TDM, surprise model) sees
 * symlog(s) instead of s, and the TDM predicts symlog states.
 *
 * Continuous actions have no DQN critic (a critic over one discretised dimension would value a
 * different decision than the one executed); the QT is their critic and drives the priorities.
 */
import * as tf from "@tensorflow/tfjs";
import { mean, oneHot } from "../../core/arrays.js";
import { ConfigError, QttdmError } from "../../core/errors.js";
import type { Rng } from "../../core/rng.js";
import { loadWeights, saveWeights } from "../../nets/weights.js";
import type { ReplaySpec, SampledBatch } from "../../replay/buffer.js";
import { SurpriseModel, SurpriseNormalizer, type NormalizerState } from "../disrc.js";
import { DqnAgent } from "../dqn/agent.js";
import { MppiPlanner } from "../planner/mppi.js";
import { requireBlob } from "../state.js";
import { ActionBins } from "../qt/bins.js";
import { QtLearner } from "../qt/learner.js";
import { TdmLearner } from "../tdm/learner.js";
import { resolveTdmArch } from "../tdm/model.js";
import { lossWeights } from "../td.js";
import { EpsilonSchedule } from "../exploration.js";
import type { ActMode, Agent, AgentEnvSpec, AgentSettings, AgentState, ReplaySource, Scalars, UpdateResult } from "../types.js";
import type { QttdmConfig } from "./config.js";

export type ActionMode = "mppi" | "qt" | "critic";

export class QttdmAgent implements Agent {
  readonly kind = "qttdm";
  readonly obsDim: number;
  readonly coder: ActionBins;
  readonly critic: DqnAgent | null;
  readonly qt: QtLearner;
  readonly tdm: TdmLearner;
  readonly planner: MppiPlanner;
  readonly surpriseModel: SurpriseModel | null;
  readonly tdmSurprise: SurpriseNormalizer | null;
  readonly mode: ActionMode;
  readonly priority: "critic" | "qt" | "mean";
  private readonly epsilon: EpsilonSchedule;
  private readonly symlog: boolean;
  updates = 0;
  private actMs = 0;
  private actCount = 0;

  constructor(readonly settings: AgentSettings<QttdmConfig>, spec: AgentEnvSpec, rng: Rng) {
    const { agent, disrc } = settings;
    const { joint, planner } = agent;
    this.obsDim = spec.observationSpace.shape.reduce((a, b) => a * b, 1);
    this.coder = new ActionBins(spec.actionSpace, agent.qt.bins);
    const discrete = this.coder.discrete;
    if (joint.critic === "on" && !discrete) {
      throw new ConfigError(`config key "agent.joint.critic": got "on" with a continuous action space; expected "auto" or "off" (the QT is the critic of continuous actions)`);
    }
    if (agent.exploration.network !== "online") {
      throw new ConfigError(`config key "agent.exploration.network": got "${agent.exploration.network}"; expected "online" for the qttdm agent (its behaviour policy is the QT/planner's)`);
    }
    const criticOn = discrete && joint.critic !== "off";
    this.critic = criticOn ? new DqnAgent({ ...settings, disrc: { ...disrc, enabled: false } }, spec, rng) : null;
    this.qt = new QtLearner(agent.qt, this.obsDim, this.coder, { double: agent.double, huberDelta: agent.huberDelta }, rng);
    this.tdm = new TdmLearner(agent.tdmTrain, this.obsDim, this.coder, resolveTdmArch(agent.tdm), rng);
    this.tdmSurprise = disrc.enabled && disrc.source === "tdm" ? new SurpriseNormalizer(disrc.statsRate, disrc.scale) : null;
    this.surpriseModel = disrc.enabled && disrc.source !== "tdm" ? new SurpriseModel(disrc, this.obsDim, this.actionFeatureCount(), rng) : null;

    this.mode = planner.mode === "auto" ? (discrete ? "critic" : "mppi") : planner.mode;
    if (this.mode === "critic" && !this.critic) throw new ConfigError(`config key "agent.planner.mode": got "critic" but this agent has no DQN critic (continuous actions or agent.joint.critic: off); expected mppi or qt`);
    this.priority = joint.priority === "auto" ? (this.critic ? "critic" : "qt") : joint.priority;
    if (this.priority !== "qt" && !this.critic) throw new ConfigError(`config key "agent.joint.priority": got "${joint.priority}" but this agent has no DQN critic; expected "qt" or "auto"`);
    if (this.priority !== "critic" && agent.qt.updateEvery > 1) {
      throw new ConfigError(`config key "agent.qt.updateEvery": got ${agent.qt.updateEvery} while the QT's TD errors drive priorities (agent.joint.priority: ${this.priority}); expected 1`);
    }
    const valueFrom = planner.value === "auto" ? (this.critic ? "critic" : "qt") : planner.value;
    if (valueFrom === "critic" && !this.critic) throw new ConfigError(`config key "agent.planner.value": got "critic" but this agent has no DQN critic; expected "qt" or "auto"`);
    const critic = this.critic;
    const qtNet = this.qt.online;
    const useCritic = critic !== null && (valueFrom === "critic" || this.mode === "critic");
    this.planner = new MppiPlanner(planner, this.coder, {
      tdm: this.tdm.model,
      gamma: agent.gamma,
      value: valueFrom === "critic" ? (obs) => tf.max(critic!.online.apply(obs), 1) as tf.Tensor1D : (obs) => qtNet.value(obs),
      policy: useCritic
        ? (obs, noise) => greedyWithNoise(critic!.greedy(obs.dataSync() as Float32Array, obs.shape[0]), noise)
        : (obs, noise) => qtNet.greedyBins(obs, noise),
    });
    const ex = agent.exploration;
    this.epsilon = new EpsilonSchedule(ex, settings.totalSteps);
    this.symlog = joint.observations === "symlog";
  }

  private actionFeatureCount(): number {
    return this.coder.discrete ? this.coder.bins : this.coder.dims;
  }

  epsilonAt(step: number): number {
    return this.epsilon.at(step);
  }

  act(rawObs: Float32Array, n: number, mode: ActMode, step: number, rng: Rng): Int32Array | Float32Array {
    const obs = this.view(rawObs);
    const explore = mode === "explore";
    const eps = explore ? this.epsilonAt(step) : 0;
    const m = this.coder.dims;
    // Coins first, so the random stream does not depend on the networks.
    const random = new Uint8Array(n);
    let needDecision = false;
    for (let i = 0; i < n; i++) {
      random[i] = eps > 0 && rng.random() < eps ? 1 : 0;
      if (!random[i]) needDecision = true;
    }
    if (this.coder.discrete) {
      const out = new Int32Array(n);
      const chosen = needDecision ? (this.decide(obs, n, mode, rng) as Int32Array) : null;
      for (let i = 0; i < n; i++) out[i] = random[i] ? rng.integers(0, this.coder.bins) : chosen![i]!;
      return out;
    }
    const u = needDecision ? (this.decide(obs, n, mode, rng) as Float32Array) : new Float32Array(n * m);
    const { explore: noiseKind, randomBinProb, noiseStd } = this.settings.agent.planner;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < m; k++) {
        const j = i * m + k;
        if (random[i]) u[j] = rng.uniform(-1, 1);
        else if (explore && noiseKind === "bins" && rng.random() < randomBinProb) u[j] = (2 * rng.integers(0, this.coder.bins)) / (this.coder.bins - 1) - 1;
        else if (explore && noiseKind === "gaussian") u[j] = Math.min(1, Math.max(-1, u[j]! + noiseStd * rng.normal()));
      }
    }
    return this.coder.toEnv(u, n);
  }

  /** The action of every row by the configured mode (discrete actions, or unit coordinates), timed. */
  private decide(obs: Float32Array, n: number, mode: ActMode, rng: Rng): Int32Array | Float32Array {
    const start = performance.now();
    let out: Int32Array | Float32Array;
    if (this.mode === "mppi") out = this.planner.plan(obs, n, mode === "explore" ? "explore" : "greedy", rng);
    else if (this.mode === "critic") out = this.critic!.greedy(obs, n);
    else {
      const t = tf.tensor2d(obs, [n, this.obsDim]);
      const bins = this.qt.online.greedyBins(t);
      t.dispose();
      out = this.coder.discrete ? bins : this.coder.binsToUnit(bins);
    }
    this.actMs += performance.now() - start;
    this.actCount += n;
    return out;
  }

  actScalars(step: number): Scalars {
    const s: Scalars = { "charts/epsilon": this.epsilonAt(step) };
    if (this.actCount > 0) s["planner/ms_per_action"] = this.actMs / this.actCount;
    this.actMs = 0;
    this.actCount = 0;
    return s;
  }

  replaySpec(): ReplaySpec {
    const action = this.coder.discrete ? { kind: "discrete" as const, n: this.coder.bins } : { kind: "continuous" as const, dim: this.coder.dims };
    return { obsDim: this.obsDim, action, gamma: this.settings.agent.gamma };
  }

  /** Agent-side actions of a replay batch: discrete ints, or unit coordinates. */
  private agentActions(b: SampledBatch): Int32Array | Float32Array {
    return this.coder.discrete ? Int32Array.from(b.action) : this.coder.toUnit(b.action, b.n);
  }

  /** Observations as the networks see them (`agent.joint.observations`). */
  private view(obs: Float32Array): Float32Array {
    return this.symlog ? symlog(obs) : obs;
  }

  /** A replay batch as the networks see it (`agent.joint.observations`). */
  private viewBatch(raw: SampledBatch): SampledBatch {
    return this.symlog ? { ...raw, obs: symlog(raw.obs), nextObs: symlog(raw.nextObs), bootstrapObs: symlog(raw.bootstrapObs) } : raw;
  }

  /** The DQN critic's probe losses; a continuous-action agent has no critic to measure. */
  get probeLosses(): ((b: SampledBatch) => Float32Array) | undefined {
    const critic = this.critic;
    return critic ? (b) => critic.probeLosses(this.viewBatch(b)) : undefined;
  }

  update(replay: ReplaySource): UpdateResult {
    const { agent } = this.settings;
    const { joint } = agent;
    this.updates += 1;
    const raw = replay.sample(this.settings.batchSize);
    const b = this.viewBatch(raw);
    const scalars: Scalars = {};

    let surprise: Float32Array | null = null;
    if (this.tdmSurprise) {
      const errors = this.tdm.predictionErrors(b.obs, b.action, b.nextObs, b.reward, b.n);
      surprise = this.tdmSurprise.normalize(errors);
      scalars["disrc/prediction_error"] = mean(errors);
    } else if (this.surpriseModel) {
      const s = this.surpriseModel.update({ n: b.n, obs: b.obs, actionFeatures: this.actionFeatures(b), nextObs: b.nextObs });
      surprise = s.surprise;
      scalars["disrc/prediction_error"] = s.meanError;
    }
    const weights = lossWeights(b.weights, surprise);
    if (surprise) {
      scalars["disrc/surprise_mean"] = mean(surprise);
      scalars["disrc/weight_mean"] = mean(weights);
    }

    let criticTd: Float32Array | null = null;
    let criticStd: Float32Array | null = null;
    if (this.critic) {
      const scaled = weights.map((w) => w * joint.criticWeight);
      const r = this.critic.update({
        sample: () => ({ ...b, weights: scaled }),
        sampleSequences: () => {
          throw new QttdmError("the critic draws transitions only");
        },
        sampleObservations: (n) => replay.sampleObservations(n),
      });
      criticTd = r.tdError;
      criticStd = r.tdStd ?? null;
      for (const [k, v] of Object.entries(r.scalars)) scalars[k.replace(/^losses\//, "critic/")] = v;
    }

    let qtTd: Float32Array | null = null;
    let qtStd: Float32Array | null = null;
    if (this.updates % agent.qt.updateEvery === 0) {
      const consistency =
        joint.consistencyWeight > 0
          ? { target: this.planner.segmentReturns(b.obs, b.n, this.agentActions(b), joint.consistencyHorizon), weight: joint.consistencyWeight }
          : undefined;
      const r = this.qt.update(b, weights, joint.qtWeight, consistency);
      qtTd = r.tdError;
      qtStd = r.tdStd;
      Object.assign(scalars, r.scalars);
    }

    if (this.updates % agent.tdmTrain.updateEvery === 0) {
      const seq = replay.sampleSequences(agent.tdmTrain.batchSize, this.tdm.model.arch.context);
      Object.assign(scalars, this.tdm.update(this.symlog ? { ...seq, obs: symlog(seq.obs), nextObs: symlog(seq.nextObs) } : seq));
    }

    let tdError: Float32Array;
    let tdStd: Float32Array | null;
    if (this.priority === "critic") [tdError, tdStd] = [criticTd!, criticStd];
    else if (this.priority === "qt") [tdError, tdStd] = [qtTd!, qtStd];
    else {
      tdError = criticTd!.map((v, i) => 0.5 * (v + qtTd![i]!));
      tdStd = criticStd && qtStd ? criticStd.map((v, i) => 0.5 * (v + qtStd![i]!)) : (criticStd ?? qtStd);
    }
    const main = this.critic ? "critic" : "qt";
    scalars["losses/td_loss"] = scalars[`${main}/td_loss`]!;
    scalars["losses/q_values"] = scalars[`${main}/q_values`]!;
    return { indices: b.indices, sampledAt: b.sampledAt, info: b.info, tdError, tdStd: tdStd ?? undefined, surprise: surprise ?? undefined, scalars };
  }

  private actionFeatures(b: SampledBatch): Float32Array {
    if (!this.coder.discrete) return this.coder.toUnit(b.action, b.n);
    return oneHot(b.action, b.n, this.coder.bins);
  }

  state(): AgentState {
    const blobs: Record<string, Uint8Array> = {
      qt: saveWeights(this.qt.online, this.qt.optimizer),
      qt_target: saveWeights(this.qt.target),
      tdm: saveWeights(this.tdm.model, this.tdm.optimizer),
    };
    let criticMeta: Record<string, unknown> | null = null;
    if (this.critic) {
      const c = this.critic.state();
      for (const [k, v] of Object.entries(c.blobs)) blobs[`critic_${k}`] = v;
      criticMeta = c.meta;
    }
    if (this.surpriseModel) blobs.surprise = saveWeights(this.surpriseModel.params(), this.surpriseModel.adam ?? undefined);
    return {
      blobs,
      meta: {
        kind: this.kind,
        updates: this.updates,
        qtUpdates: this.qt.updates,
        tdmUpdates: this.tdm.updates,
        critic: criticMeta,
        surprise: this.surpriseModel?.meta() ?? null,
        tdmSurprise: this.tdmSurprise?.state() ?? null,
        planner: this.planner.state(),
      },
    };
  }

  load(state: AgentState): void {
    const need = (name: string) => requireBlob(state, name, "; was it saved by a qttdm agent with the same config?");
    loadWeights(need("qt"), this.qt.online, this.qt.optimizer, "QT weights");
    loadWeights(need("qt_target"), this.qt.target, undefined, "QT target weights");
    loadWeights(need("tdm"), this.tdm.model, this.tdm.optimizer, "TDM weights");
    const meta = state.meta;
    if (this.critic) {
      const blobs: Record<string, Uint8Array> = {};
      for (const [k, v] of Object.entries(state.blobs)) if (k.startsWith("critic_")) blobs[k.slice("critic_".length)] = v;
      this.critic.load({ blobs, meta: (meta.critic ?? {}) as Record<string, unknown> });
    }
    if (this.surpriseModel) {
      loadWeights(need("surprise"), this.surpriseModel.params(), this.surpriseModel.adam ?? undefined, "surprise model");
      this.surpriseModel.loadMeta(meta.surprise as Record<string, unknown>);
    }
    if (this.tdmSurprise) this.tdmSurprise.load(meta.tdmSurprise as NormalizerState);
    this.updates = Number(meta.updates ?? 0);
    this.qt.updates = Number(meta.qtUpdates ?? 0);
    this.tdm.updates = Number(meta.tdmUpdates ?? 0);
    this.planner.load(meta.planner as Record<string, number[]> | undefined);
  }

  parameterCounts(): Record<string, number> {
    const counts: Record<string, number> = { tdm: this.tdm.model.numParams(), qt: this.qt.online.numParams() };
    if (this.critic) counts.critic = this.critic.online.numParams();
    if (this.surpriseModel) counts.surprise = this.surpriseModel.numParams();
    return counts;
  }

  dispose(): void {
    this.critic?.dispose();
    this.qt.dispose();
    this.tdm.dispose();
    this.surpriseModel?.dispose();
  }
}

/** sign(x)·ln(1 + |x|) per element (a copy). */
export function symlog(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.sign(x[i]!) * Math.log1p(Math.abs(x[i]!));
  return out;
}

/** Applies per-row replacements to greedy discrete actions (planner proposals). */
function greedyWithNoise(actions: Int32Array, noise?: (row: number, dim: number) => number | null): Int32Array {
  if (noise) for (let i = 0; i < actions.length; i++) actions[i] = noise(i, 0) ?? actions[i]!;
  return actions;
}
