/**
 * SAC's policy: an MLP giving the mean and a bounded log-std of a Gaussian per action dimension,
 * squashed by tanh into the action box. Noise ε is an input, drawn by the caller from an Rng, so
 * that samples are reproducible on every backend.
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../../core/rng.js";
import { Mlp } from "../../nets/layers.js";
import { Module } from "../../nets/module.js";

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
/** Keeps log(scale·(1 − tanh²)) finite where tanh saturates (CleanRL's and SB3's ε). */
const SQUASH_EPS = 1e-6;

export interface SquashedGaussianOptions {
  hidden: readonly number[];
  logStdMin: number;
  logStdMax: number;
  /** Per dimension, half the box's width and its centre: a = tanh(u)·scale + bias. */
  scale: Float32Array;
  bias: Float32Array;
}

export class SquashedGaussianPolicy extends Module {
  readonly net: Mlp;
  readonly actionDim: number;
  private readonly scale: tf.Tensor1D;
  private readonly bias: tf.Tensor1D;

  constructor(name: string, readonly obsDim: number, private readonly opts: SquashedGaussianOptions, rng: Rng) {
    super(name);
    this.actionDim = opts.scale.length;
    this.net = this.addChild(new Mlp("mlp", obsDim, opts.hidden, 2 * this.actionDim, rng));
    this.scale = tf.keep(tf.tensor1d(opts.scale));
    this.bias = tf.keep(tf.tensor1d(opts.bias));
  }

  /** Mean and log-std [n, d] of the Gaussian over pre-squash actions; `noGrad` skips the tape. */
  gaussian(obs: tf.Tensor2D, noGrad: boolean): { mean: tf.Tensor2D; logStd: tf.Tensor2D } {
    const { logStdMin: lo, logStdMax: hi } = this.opts;
    const out = noGrad ? this.net.infer(obs) : (this.net.apply(obs, false) as tf.Tensor2D);
    const [mean, raw] = tf.split(out, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    // CleanRL's bound: log σ = lo + (hi − lo)·(tanh(raw) + 1)/2.
    const logStd = tf.add(lo, tf.mul(0.5 * (hi - lo), tf.add(tf.tanh(raw), 1))) as tf.Tensor2D;
    return { mean, logStd };
  }

  /** The deterministic (evaluation) action tanh(μ)·scale + bias. */
  mode(obs: tf.Tensor2D): tf.Tensor2D {
    return this.squash(this.gaussian(obs, true).mean);
  }

  /**
   * a = tanh(μ + σ·ε)·scale + bias and log π(a|s) = Σ_d [log N(ε) − log σ − log(scale·(1 − tanh²(u)) + 1e-6)]
   * (the density of u, then the change of variables through the squash).
   * @param noise standard normal ε [n, d]
   */
  sample(obs: tf.Tensor2D, noise: tf.Tensor2D, noGrad: boolean): { action: tf.Tensor2D; logProb: tf.Tensor1D } {
    const { mean, logStd } = this.gaussian(obs, noGrad);
    const t = tf.tanh(tf.add(mean, tf.mul(tf.exp(logStd), noise))) as tf.Tensor2D;
    const gaussianLogProb = tf.sub(tf.mul(-0.5, tf.square(noise)), tf.add(logStd, HALF_LOG_2PI));
    const squashLogDet = tf.log(tf.add(tf.mul(this.scale, tf.sub(1, tf.square(t))), SQUASH_EPS));
    const logProb = tf.sum(tf.sub(gaussianLogProb, squashLogDet), 1) as tf.Tensor1D;
    return { action: this.squash(t, false), logProb };
  }

  /** tanh(u)·scale + bias, or t·scale + bias when t is already tanh(u). */
  private squash(u: tf.Tensor2D, applyTanh = true): tf.Tensor2D {
    return tf.add(tf.mul(applyTanh ? tf.tanh(u) : u, this.scale), this.bias) as tf.Tensor2D;
  }

  override dispose(): void {
    super.dispose();
    tf.dispose([this.scale, this.bias]);
  }
}
