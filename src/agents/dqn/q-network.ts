/**
 * The Q-network: an encoder (the first `encoderLayers` hidden layers) and a head (the remaining
 * hidden layers and the Q output, optionally dueling), so that the two can train at different
 * learning rates and the encoder can be initialised from an earlier run. With `heads` K > 1 the
 * head's output layer holds K linear Q-heads side by side ([n, K·A]); `apply` gives their mean.
 */
import * as tf from "@tensorflow/tfjs";
import { ConfigError } from "../../core/errors.js";
import type { Rng } from "../../core/rng.js";
import { DuelingHead, Mlp } from "../../nets/layers.js";
import { Module } from "../../nets/module.js";
import type { NetworkConfig } from "./config.js";

export class QNetwork extends Module {
  readonly encoder: Mlp;
  readonly head: Mlp | null;
  readonly dueling: DuelingHead | null;
  /** Q-heads K of the output layer. */
  readonly heads: number;

  constructor(name: string, readonly obsDim: number, readonly numActions: number, cfg: NetworkConfig, rng: Rng) {
    super(name);
    const { hidden, encoderLayers, activation, layerNorm, heads } = cfg;
    this.heads = heads;
    if (heads > 1 && cfg.dueling) throw new ConfigError(`config key "agent.network.heads": got ${heads} with agent.network.dueling true; expected 1 (an ensemble of dueling heads is not supported)`);
    if (encoderLayers > hidden.length) {
      throw new ConfigError(
        `config key "agent.network.encoderLayers": got ${encoderLayers}; expected at most the number of hidden layers (${hidden.length})`,
      );
    }
    const latent = hidden[encoderLayers - 1]!;
    this.encoder = this.addChild(
      new Mlp("encoder", obsDim, hidden.slice(0, encoderLayers - 1), latent, rng, { activation, outActivation: activation, layerNorm }),
    );
    const headHidden = hidden.slice(encoderLayers);
    if (cfg.dueling) {
      // Extra hidden layers (if any) sit between the encoder and the dueling streams.
      this.head = headHidden.length
        ? this.addChild(new Mlp("head", latent, headHidden.slice(0, -1), headHidden[headHidden.length - 1]!, rng, { activation, outActivation: activation, layerNorm }))
        : null;
      this.dueling = this.addChild(new DuelingHead("dueling", headHidden.length ? headHidden[headHidden.length - 1]! : latent, numActions, rng));
    } else {
      this.head = this.addChild(new Mlp("head", latent, headHidden, numActions * heads, rng, { activation, layerNorm }));
      this.dueling = null;
    }
  }

  /** @param obs [n, obsDim] @returns Q-values [n, numActions], the mean of the heads' */
  apply(obs: tf.Tensor2D): tf.Tensor2D {
    if (this.heads === 1) return this.raw(obs);
    return tf.mean(this.applyHeads(obs), 1) as tf.Tensor2D;
  }

  /** @param obs [n, obsDim] @returns every head's Q-values [n, heads, numActions] */
  applyHeads(obs: tf.Tensor2D): tf.Tensor3D {
    return tf.reshape(this.raw(obs), [obs.shape[0], this.heads, this.numActions]) as tf.Tensor3D;
  }

  private raw(obs: tf.Tensor2D): tf.Tensor2D {
    // Observations need no gradient, which saves the first layer's input-gradient matmul.
    let h = this.encoder.apply(obs, false);
    if (this.head) h = this.head.apply(h);
    return (this.dueling ? this.dueling.apply(h as tf.Tensor2D) : h) as tf.Tensor2D;
  }
}
