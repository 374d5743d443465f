/**
 * DISRC surprise: a per-transition prediction error, normalised to S ∈ [0, 1], that scales each TD
 * loss term by 1 − tanh(S).
 *
 * Normalisation (our choice; the paper leaves it open): a running mean μ and variance σ² of the
 * per-sample error e (exponential moving averages of each batch's mean and variance at rate
 * `statsRate`), and S = clip((e − μ) / (κσ), 0, 1). Transitions no more surprising than usual get
 * S = 0 (weight 1); an error κ standard deviations above the mean gets the smallest weight,
 * 1 − tanh(1) ≈ 0.24. The first batch initialises μ and σ².
 *
 * Sources of e:
 * - `model`: a small MLP predicts, from (s, a), the next observation or the next latent of a fixed
 *   random encoder; e is its squared error, and it trains on the same batches as the critic.
 * - `setpoint`: the DISRC paper's latent deviation ‖z/‖z‖ − m/‖m‖‖ of the next latent z from a
 *   moving set-point m ← (1 − a)m + a·mean(z).
 * - `tdm`: the TDM's own prediction error (supplied by the QT-TDM agent through `SurpriseNormalizer`).
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../core/rng.js";
import { Mlp } from "../nets/layers.js";
import { Adam } from "../nets/optim.js";
import { mean } from "../core/arrays.js";
import type { SampledBatch } from "../replay/buffer.js";
import type { DisrcConfig } from "./config.js";
import { lossWeights } from "./td.js";
import type { Scalars } from "./types.js";

export interface NormalizerState {
  mean: number;
  variance: number;
  initialised: boolean;
}

export class SurpriseNormalizer {
  private mean = 0;
  private variance = 1;
  private initialised = false;

  constructor(private readonly rate: number, private readonly scale: number) {}

  /** Updates the running statistics with a batch of errors, then returns S for each. */
  normalize(errors: ArrayLike<number>): Float32Array {
    const n = errors.length;
    let m = 0;
    for (let i = 0; i < n; i++) m += errors[i]!;
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (errors[i]! - m) ** 2;
    v /= n;
    if (!this.initialised) {
      this.mean = m;
      this.variance = v;
      this.initialised = true;
    } else {
      this.mean += this.rate * (m - this.mean);
      this.variance += this.rate * (v - this.variance);
    }
    const denom = this.scale * Math.sqrt(this.variance) + 1e-12;
    const s = new Float32Array(n);
    for (let i = 0; i < n; i++) s[i] = Math.min(1, Math.max(0, (errors[i]! - this.mean) / denom));
    return s;
  }

  state(): NormalizerState {
    return { mean: this.mean, variance: this.variance, initialised: this.initialised };
  }

  load(s: NormalizerState): void {
    ({ mean: this.mean, variance: this.variance, initialised: this.initialised } = s);
  }
}

/** Inputs of a surprise computation, batch-major. */
export interface SurpriseBatch {
  n: number;
  obs: Float32Array;
  /** Model input features of the actions, [n * actionFeatures] (one-hot for discrete actions). */
  actionFeatures: Float32Array;
  nextObs: Float32Array;
}

export interface SurpriseResult {
  /** Normalised surprise S ∈ [0, 1] per sample. */
  surprise: Float32Array;
  /** Mean raw prediction error (the surprise model's loss, or the mean deviation). */
  meanError: number;
}

/** The `model` and `setpoint` sources; owns its networks and optimiser. */
export class SurpriseModel {
  /** Fixed random encoder giving the latent targets (never trained). */
  private readonly encoder: Mlp | null;
  private readonly predictor: Mlp | null;
  private readonly optimizer: Adam | null;
  private readonly normalizer: SurpriseNormalizer;
  private setpoint: Float32Array | null = null;

  constructor(readonly cfg: DisrcConfig, readonly obsDim: number, readonly actionFeatures: number, rng: Rng) {
    this.normalizer = new SurpriseNormalizer(cfg.statsRate, cfg.scale);
    const needsLatent = cfg.source === "setpoint" || cfg.target === "latent";
    this.encoder = needsLatent ? new Mlp("disrc_encoder", obsDim, [cfg.hidden[0]!], cfg.latentDim, rng, { activation: "tanh" }) : null;
    if (cfg.source === "model") {
      const outDim = cfg.target === "latent" ? cfg.latentDim : obsDim;
      this.predictor = new Mlp("disrc_predictor", obsDim + actionFeatures, cfg.hidden, outDim, rng);
      this.optimizer = new Adam(this.predictor.params(), { lr: cfg.lr, clipNorm: 10 });
    } else {
      this.predictor = null;
      this.optimizer = null;
    }
  }

  /** Computes the surprise of a batch and (for the `model` source) trains the predictor on it. */
  update(b: SurpriseBatch): SurpriseResult {
    const errors = this.predictor ? this.modelErrors(b) : this.setpointDeviation(b);
    let mean = 0;
    for (let i = 0; i < b.n; i++) mean += errors[i]!;
    return { surprise: this.normalizer.normalize(errors), meanError: mean / b.n };
  }

  private modelErrors(b: SurpriseBatch): Float32Array {
    const obs = tf.tensor2d(b.obs, [b.n, this.obsDim]);
    const act = tf.tensor2d(b.actionFeatures, [b.n, this.actionFeatures]);
    const next = tf.tensor2d(b.nextObs, [b.n, this.obsDim]);
    const input = tf.concat([obs, act], 1);
    const target = this.encoder ? tf.tidy(() => this.encoder!.apply(next)) : next;
    try {
      const { aux } = this.optimizer!.step(() => {
        const err = tf.mean(tf.square(tf.sub(this.predictor!.apply(input), target)), 1);
        return { loss: tf.mean(err) as tf.Scalar, aux: { err } };
      });
      return aux.err as Float32Array;
    } finally {
      tf.dispose([obs, act, next, input, target]);
    }
  }

  private setpointDeviation(b: SurpriseBatch): Float32Array {
    const z = tf.tidy(() => {
      const latent = this.encoder!.apply(tf.tensor2d(b.nextObs, [b.n, this.obsDim]));
      return latent.dataSync() as Float32Array;
    });
    const d = this.cfg.latentDim;
    const batchMean = new Float32Array(d);
    for (let i = 0; i < b.n; i++) for (let k = 0; k < d; k++) batchMean[k] += z[i * d + k]! / b.n;
    if (!this.setpoint) this.setpoint = batchMean.slice();
    const m = this.setpoint;
    const mNorm = Math.hypot(...m) + 1e-8;
    const dev = new Float32Array(b.n);
    for (let i = 0; i < b.n; i++) {
      let zNorm = 0;
      for (let k = 0; k < d; k++) zNorm += z[i * d + k]! ** 2;
      zNorm = Math.sqrt(zNorm) + 1e-8;
      let sq = 0;
      for (let k = 0; k < d; k++) sq += (z[i * d + k]! / zNorm - m[k]! / mNorm) ** 2;
      dev[i] = Math.sqrt(sq);
    }
    const a = this.cfg.setpointRate;
    for (let k = 0; k < d; k++) m[k] = (1 - a) * m[k]! + a * batchMean[k]!;
    return dev;
  }

  /** Parameters to checkpoint (the fixed encoder too, so a resumed run sees the same latents). */
  params(): Map<string, tf.Variable> {
    return new Map([...(this.encoder?.params() ?? []), ...(this.predictor?.params() ?? [])]);
  }

  get adam(): Adam | null {
    return this.optimizer;
  }

  meta(): Record<string, unknown> {
    return { normalizer: this.normalizer.state(), setpoint: this.setpoint ? Array.from(this.setpoint) : null };
  }

  loadMeta(meta: Record<string, unknown>): void {
    this.normalizer.load(meta.normalizer as NormalizerState);
    this.setpoint = meta.setpoint ? Float32Array.from(meta.setpoint as number[]) : null;
  }

  numParams(): number {
    let n = 0;
    for (const v of this.params().values()) n += v.size;
    return n;
  }

  dispose(): void {
    this.encoder?.dispose();
    this.predictor?.dispose();
    this.optimizer?.dispose();
  }
}

/**
 * DISRC on one replay batch for a model-free learner: trains the surprise model on it (logging its
 * scalars) and returns each transition's surprise S and the loss weights w_i · (1 − tanh S_i); without
 * a model, no surprise and the IS weights.
 * @param actionFeatures the batch's actions as the model reads them (one-hot, or continuous values)
 */
export function surpriseWeights(
  model: SurpriseModel | null,
  b: SampledBatch,
  actionFeatures: () => Float32Array,
  scalars: Scalars,
): { surprise: Float32Array | null; weights: Float32Array } {
  if (!model) return { surprise: null, weights: b.weights };
  const s = model.update({ n: b.n, obs: b.obs, actionFeatures: actionFeatures(), nextObs: b.nextObs });
  scalars["disrc/surprise_mean"] = mean(s.surprise);
  scalars["disrc/prediction_error"] = s.meanError;
  const weights = lossWeights(b.weights, s.surprise);
  scalars["disrc/weight_mean"] = mean(weights);
  return { surprise: s.surprise, weights };
}
