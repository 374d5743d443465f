/**
 * The Transformer Dynamics Model: a GPT-style causal transformer over a window of past
 * (observation, action) steps that predicts, at every step t, the next observation s_{t+1}, the
 * reward r_t and the termination flag d_t.
 *
 * Tokens of one step: one observation token (a linear map of the raw observation) followed by the
 * action token(s): `per-dim` gives one token per action dimension, the dimension's bin looked up in
 * that dimension's embedding table (QT-TDM); `single` gives one token, a linear map of the unit
 * action vector. A discrete action is always one token, the embedding of the action. The heads read
 * the hidden state of each step's last action token (so a prediction sees s_≤t and a_≤t, never
 * later steps). Positions are learned, absolute, over `context` steps.
 *
 * The next-state head predicts the change s_{t+1} − s_t (its last layer starts at zero, so an
 * untrained model predicts "no change" and zero reward, as the paper's zero-initialised heads).
 */
import * as tf from "@tensorflow/tfjs";
import { ConfigError } from "../../core/errors.js";
import type { Rng } from "../../core/rng.js";
import { Dense, Embedding, Mlp, PositionEmbedding, Transformer } from "../../nets/layers.js";
import { Module } from "../../nets/module.js";
import type { TdmConfig, TdmSize } from "../qttdm/config.js";
import type { ActionBins } from "../qt/bins.js";
import { KvCache } from "./incremental.js";

export interface TdmArch {
  layers: number;
  width: number;
  heads: number;
  context: number;
  headHidden: number[];
  actionTokens: "per-dim" | "single";
}

/** small/medium fit a 2-core CPU; large is the paper's TDM (5 layers, 4 heads, width 256, 20 steps, heads 512×3). */
export const TDM_PRESETS: Record<TdmSize, TdmArch> = {
  small: { layers: 2, width: 64, heads: 4, context: 8, headHidden: [128], actionTokens: "per-dim" },
  medium: { layers: 3, width: 128, heads: 4, context: 10, headHidden: [256, 256], actionTokens: "per-dim" },
  large: { layers: 5, width: 256, heads: 4, context: 20, headHidden: [512, 512, 512], actionTokens: "per-dim" },
};

/** The architecture a `agent.tdm` value stands for: the preset, with any explicit keys replacing its values. */
export function resolveTdmArch(cfg: TdmConfig): TdmArch {
  if (typeof cfg === "string") return { ...TDM_PRESETS[cfg], headHidden: [...TDM_PRESETS[cfg].headHidden] };
  const p = TDM_PRESETS[cfg.size];
  const arch: TdmArch = {
    layers: cfg.layers ?? p.layers,
    width: cfg.width ?? p.width,
    heads: cfg.heads ?? p.heads,
    context: cfg.context ?? p.context,
    headHidden: [...(cfg.headHidden ?? p.headHidden)],
    actionTokens: cfg.actionTokens ?? p.actionTokens,
  };
  if (arch.width % arch.heads !== 0) {
    throw new ConfigError(`config key "agent.tdm": width ${arch.width} is not divisible by heads ${arch.heads}; expected heads to divide the width`);
  }
  return arch;
}

/** Predictions at every step of a window. */
export interface TdmOutput {
  /** [b, L, obsDim] predicted next observations. */
  nextObs: tf.Tensor3D;
  /** [b, L] predicted rewards. */
  reward: tf.Tensor2D;
  /** [b, L] termination logits. */
  termLogit: tf.Tensor2D;
}

/**
 * Agent-side actions, batch-major: discrete actions as integers, continuous ones in unit
 * coordinates ([count * dims], see ActionBins).
 */
export type AgentActions = Int32Array | Float32Array;

export class Tdm extends Module {
  readonly obsEmbed: Dense;
  /** Table of every dimension's bins stacked ([dims·bins, d]); dimension k's bin b is row k·bins + b. */
  readonly actEmbed: Embedding | null;
  readonly actLinear: Dense | null;
  readonly pos: PositionEmbedding;
  readonly body: Transformer;
  readonly stateHead: Mlp;
  readonly rewardHead: Mlp;
  readonly termHead: Mlp;
  /** Action tokens per step. */
  readonly actionTokenCount: number;
  readonly tokensPerStep: number;

  constructor(name: string, readonly obsDim: number, readonly coder: ActionBins, readonly arch: TdmArch, rng: Rng) {
    super(name);
    const d = arch.width;
    const embedded = coder.discrete || arch.actionTokens === "per-dim";
    this.actionTokenCount = embedded ? coder.dims : 1;
    this.tokensPerStep = 1 + this.actionTokenCount;
    this.obsEmbed = this.addChild(new Dense("obs_embed", obsDim, d, rng));
    this.actEmbed = embedded ? this.addChild(new Embedding("act_embed", coder.dims * coder.bins, d, rng)) : null;
    this.actLinear = embedded ? null : this.addChild(new Dense("act_embed", coder.dims, d, rng));
    this.pos = this.addChild(new PositionEmbedding("pos", arch.context * this.tokensPerStep, d, rng));
    this.body = this.addChild(new Transformer("gpt", { layers: arch.layers, dim: d, heads: arch.heads }, rng));
    const head = (hname: string, out: number) =>
      this.addChild(new Mlp(hname, d, arch.headHidden, out, rng, { activation: "leaky_relu", lastInit: "zeros" }));
    this.stateHead = head("state_head", obsDim);
    this.rewardHead = head("reward_head", 1);
    this.termHead = head("term_head", 1);
  }

  /**
   * The action input tensor of `count` steps shaped [...lead, ·]: int32 ids [...lead, dims] for the
   * embedded form, float [...lead, dims] of unit actions for the linear form.
   */
  actionInput(actions: AgentActions, lead: number[]): tf.Tensor {
    const m = this.coder.dims;
    if (this.actEmbed) {
      const bins = this.coder.discrete ? Int32Array.from(actions) : this.coder.unitToBins(actions);
      for (let i = 0; i < bins.length; i++) bins[i]! += (i % m) * this.coder.bins;
      return tf.tensor(bins, [...lead, m], "int32");
    }
    return tf.tensor(actions, [...lead, m], "float32");
  }

  /** Tokens of L steps, without positions: [b, L·(1 + actionTokens), d]. @param obs [b, L, obsDim] */
  private tokens(obs: tf.Tensor3D, actions: tf.Tensor): tf.Tensor3D {
    const [b, L] = obs.shape;
    const d = this.arch.width;
    const s = tf.reshape(this.obsEmbed.apply(obs), [b, L, 1, d]);
    const a = this.actEmbed ? this.actEmbed.apply(actions) : tf.reshape(this.actLinear!.apply(actions), [b, L, 1, d]);
    return tf.reshape(tf.concat([s, a as tf.Tensor4D], 2), [b, L * this.tokensPerStep, d]) as tf.Tensor3D;
  }

  /**
   * The heads on the hidden states of M steps' last action tokens. @param h [M, d] @param obs [M, obsDim]
   * @param infer without a gradient (rollouts): the heads' gradient-free forms
   */
  private heads(h: tf.Tensor2D, obs: tf.Tensor2D, infer = false): { nextObs: tf.Tensor2D; reward: tf.Tensor1D; termLogit: tf.Tensor1D } {
    const M = h.shape[0];
    const run = (m: Mlp) => (infer ? m.infer(h) : m.apply(h));
    return {
      nextObs: tf.add(obs, run(this.stateHead)) as tf.Tensor2D,
      reward: tf.reshape(run(this.rewardHead), [M]) as tf.Tensor1D,
      termLogit: tf.reshape(run(this.termHead), [M]) as tf.Tensor1D,
    };
  }

  /**
   * @param obs [b, L, obsDim] with L ≤ context
   * @param actions from `actionInput`, [b, L, dims]
   */
  apply(obs: tf.Tensor3D, actions: tf.Tensor): TdmOutput {
    const [b, L, D] = obs.shape;
    if (L > this.arch.context) throw new ConfigError(`TDM window of ${L} steps exceeds its context of ${this.arch.context} (agent.tdm.context)`);
    const d = this.arch.width;
    const k = this.actionTokenCount;
    const h = this.body.apply(this.pos.apply(this.tokens(obs, actions)));
    const last = tf.reshape(tf.slice(tf.reshape(h, [b, L, k + 1, d]), [0, 0, k, 0], [b, L, 1, d]), [b * L, d]) as tf.Tensor2D;
    const out = this.heads(last, tf.reshape(obs, [b * L, D]) as tf.Tensor2D);
    return {
      nextObs: tf.reshape(out.nextObs, [b, L, D]) as tf.Tensor3D,
      reward: tf.reshape(out.reward, [b, L]) as tf.Tensor2D,
      termLogit: tf.reshape(out.termLogit, [b, L]) as tf.Tensor2D,
    };
  }

  /**
   * Open-loop rollout from single states: step t sees the observations predicted so far and the
   * given actions of steps ≤ t, and predicts step t's outcome. Within the context the steps are fed
   * incrementally (KV cache); beyond it, each step recomputes a window of the last `context` steps.
   * No gradient (inference).
   * @param obs0 [B, obsDim]
   * @param actions [B, H, dims] from `actionInput`
   * @returns rewards and termination probabilities [B, H], states [B, H + 1, obsDim] (obs0 first)
   */
  rollout(obs0: tf.Tensor2D, actions: tf.Tensor): { reward: tf.Tensor2D; termProb: tf.Tensor2D; states: tf.Tensor3D } {
    const [B, D] = obs0.shape;
    const H = actions.shape[1]!;
    const m = actions.shape[2]!;
    const d = this.arch.width;
    const k = this.actionTokenCount;
    const cache = H <= this.arch.context ? new KvCache(this.body, this.pos) : null;
    const states: tf.Tensor2D[] = [obs0];
    const rewards: tf.Tensor1D[] = [];
    const terms: tf.Tensor1D[] = [];
    try {
      for (let t = 0; t < H; t++) {
        const out = tf.tidy(() => {
          if (cache) {
            const tokens = this.tokens(tf.reshape(states[t]!, [B, 1, D]) as tf.Tensor3D, tf.slice(actions, [0, t, 0], [B, 1, m]));
            const h = cache.feed(tokens);
            return this.heads(tf.reshape(tf.slice(h, [0, k, 0], [B, 1, d]), [B, d]) as tf.Tensor2D, states[t]!, true);
          }
          const from = Math.max(0, t + 1 - this.arch.context);
          const len = t + 1 - from;
          const o = this.apply(tf.stack(states.slice(from), 1) as tf.Tensor3D, tf.slice(actions, [0, from, 0], [B, len, m]));
          return {
            nextObs: tf.reshape(tf.slice(o.nextObs, [0, len - 1, 0], [B, 1, D]), [B, D]) as tf.Tensor2D,
            reward: tf.reshape(tf.slice(o.reward, [0, len - 1], [B, 1]), [B]) as tf.Tensor1D,
            termLogit: tf.reshape(tf.slice(o.termLogit, [0, len - 1], [B, 1]), [B]) as tf.Tensor1D,
          };
        });
        states.push(out.nextObs);
        rewards.push(out.reward);
        terms.push(tf.sigmoid(out.termLogit));
        out.termLogit.dispose();
      }
      return {
        reward: tf.stack(rewards, 1) as tf.Tensor2D,
        termProb: tf.stack(terms, 1) as tf.Tensor2D,
        states: tf.stack(states, 1) as tf.Tensor3D,
      };
    } finally {
      cache?.dispose();
      tf.dispose([...states.slice(1), ...rewards, ...terms]);
    }
  }
}
