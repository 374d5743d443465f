/**
 * The qttdm agent's config (`agent` with `kind: qttdm`): the TDM, the Q-Transformer, the planner and
 * their joint training, plus the DQN critic's keys for discrete actions.
 */
import { z } from "zod";
import { positiveInt } from "../config.js";
import { criticShape } from "../dqn/config.js";

/** TDM architecture presets: `small`/`medium` for a CPU, `large` as the QT-TDM paper (5 layers, width 256, context 20). */
export const TDM_SIZES = ["small", "medium", "large"] as const;
export type TdmSize = (typeof TDM_SIZES)[number];

export const tdmArchSchema = z
  .object({
    size: z.enum(TDM_SIZES).default("small").describe("Preset that every key left null takes its value from."),
    layers: positiveInt().nullable().default(null).describe("Transformer blocks (null: the preset's)."),
    width: positiveInt().nullable().default(null).describe("Token width d (null: the preset's)."),
    heads: positiveInt().nullable().default(null).describe("Attention heads; must divide the width (null: the preset's)."),
    context: positiveInt().nullable().default(null).describe("Time steps per training window and rollout context (null: the preset's)."),
    headHidden: z.array(positiveInt()).min(1).nullable().default(null)
      .describe("Hidden widths of the next-state, reward and termination heads (null: the preset's)."),
    actionTokens: z.enum(["per-dim", "single"]).nullable().default(null)
      .describe("per-dim: one token per action dimension (binned, embedding table per dimension); single: one action token (null: the preset's)."),
  })
  .strict();

export const tdmSchema = z
  .union([z.enum(TDM_SIZES), tdmArchSchema])
  .default("small")
  .describe("TDM size: a preset name (small | medium | large) or {size, layers, width, heads, context, headHidden, actionTokens}.");

export const tdmTrainSchema = z
  .object({
    lr: z.number().positive().default(3e-4).describe("TDM Adam learning rate (paper: 1e-4 at the large size)."),
    clipNorm: z.number().positive().nullable().default(30).describe("TDM gradient-norm clip (paper: 30)."),
    weightDecay: z.number().min(0).default(1e-6).describe("TDM weight decay (L2, as torch Adam; paper: 1e-6)."),
    batchSize: positiveInt().default(32).describe("Windows of `context` steps per TDM update (paper: 512)."),
    rolloutSteps: positiveInt().default(2)
      .describe("Chained passes of the rollout loss: pass k feeds pass k−1's predicted states back in (1: teacher forcing only)."),
    rolloutDiscount: z.number().gt(0).max(1).default(0.5).describe("Weight ρ^(k−1) of rollout pass k's loss."),
    stateWeight: z.number().min(0).default(1).describe("Weight of the next-state MSE."),
    rewardWeight: z.number().min(0).default(1).describe("Weight of the reward MSE (1 equals the paper's 2·Gaussian NLL with σ = 1)."),
    terminationWeight: z.number().min(0).default(1).describe("Weight of the termination BCE (not in the paper, whose tasks never terminate)."),
    updateEvery: positiveInt().default(1).describe("Train the TDM on every k-th agent update (saves compute when acting greedily)."),
  })
  .strict();

export const qtSchema = z
  .object({
    layers: positiveInt().default(1).describe("Q-Transformer blocks (paper: 2)."),
    width: positiveInt().default(64).describe("Q-Transformer token width (paper: 128)."),
    heads: positiveInt().default(4).describe("Q-Transformer attention heads (paper: 8)."),
    headHidden: positiveInt().default(128).describe("Hidden width of each Q head (Linear–ReLU–Linear)."),
    bins: z.number().int().min(2).max(1024).default(31)
      .describe("Bins per continuous action dimension, uniform on [low, high] (paper: 256); discrete spaces use their n."),
    twinHeads: z.boolean().default(true).describe("Two Q heads: mean for acting, min in targets (clipped double Q)."),
    lr: z.number().positive().default(3e-4).describe("QT Adam learning rate (paper: 3e-4)."),
    clipNorm: z.number().positive().nullable().default(20).describe("QT gradient-norm clip (paper: 20)."),
    weightDecay: z.number().min(0).default(1e-6).describe("QT weight decay (L2; paper: 1e-6)."),
    targetTau: z.number().gt(0).max(1).default(0.005).describe("QT target EMA rate τ (paper: 0.005)."),
    targetEvery: positiveInt().default(10).describe("QT updates between target EMA steps (paper: 10)."),
    updateEvery: positiveInt().default(1).describe("Train the QT on every k-th agent update."),
  })
  .strict();

export const plannerSchema = z
  .object({
    mode: z.enum(["auto", "mppi", "qt", "critic"]).default("auto")
      .describe("How actions are chosen: mppi (plan over TDM rollouts), qt (greedy autoregressive QT), critic (greedy DQN critic, discrete); auto: critic if discrete, else mppi."),
    value: z.enum(["auto", "qt", "critic"]).default("auto").describe("Value at the planning horizon: max_a Q of the QT or the critic; auto: critic if present."),
    horizon: positiveInt().default(3).describe("Planning horizon H in TDM steps (paper: 3)."),
    iterations: positiveInt().default(4).describe("MPPI/CEM iterations per action (paper: 6)."),
    samples: positiveInt().default(128).describe("Sampled action sequences per iteration (paper: 512)."),
    proposals: z.number().int().min(0).default(8).describe("Extra QT-proposed sequences (greedy QT in the TDM rollout, noisy bins; paper: 24)."),
    elites: positiveInt().default(16).describe("Elite sequences refitting the sampling distribution (paper: 64)."),
    temperature: z.number().positive().default(0.5).describe("Elite weights ∝ exp(temperature·(G − max G)) (TD-MPC; paper: 0.5)."),
    minStd: z.number().positive().default(0.05).describe("Lower clip of the sampling std, in units of half the action range (paper: 0.05); discrete planning: weight of the uniform mixed into the refitted probabilities."),
    maxStd: z.number().positive().default(2).describe("Initial std and its upper clip (paper: 2)."),
    proposalNoise: z.number().min(0).max(1).default(0.2).describe("Per-dimension random-bin probability of the QT proposals after the first."),
    explore: z.enum(["bins", "gaussian", "none"]).default("bins")
      .describe("Continuous exploration on top of ε: bins (replace each dimension by a random bin with prob randomBinProb, paper) or gaussian noise."),
    randomBinProb: z.number().min(0).max(1).default(0.1).describe("Random-bin probability per dimension (explore: bins; paper: 0.1)."),
    noiseStd: z.number().min(0).default(0.1).describe("Gaussian exploration std in units of half the action range (explore: gaussian)."),
  })
  .strict();

export const jointSchema = z
  .object({
    priority: z.enum(["auto", "critic", "qt", "mean"]).default("auto")
      .describe("TD errors sent to the replay: the critic's, the QT's (last dimension), or their mean; auto: critic if present, else qt."),
    criticWeight: z.number().min(0).default(1).describe("Weight of the DQN critic's TD loss."),
    qtWeight: z.number().min(0).default(1).describe("Weight of the QT's TD loss."),
    consistencyWeight: z.number().min(0).default(0)
      .describe("Weight of the consistency term: the QT's Q(s, a) regressed on the TDM-predicted return of a short segment (0: off)."),
    consistencyHorizon: positiveInt().default(3).describe("TDM steps of the consistency segment."),
    observations: z.enum(["raw", "symlog"]).default("raw")
      .describe("What every QT-TDM network sees of an observation: raw, or symlog(x) = sign(x)·ln(1 + |x|) per element (for large-valued observations such as Humanoid's contact forces)."),
    critic: z.enum(["auto", "on", "off"]).default("auto")
      .describe("Train the DQN critic: auto: for discrete actions only (continuous spaces have no critic; the QT is their critic)."),
  })
  .strict();

export const qttdmConfigSchema = z
  .object({
    kind: z.literal("qttdm").describe("Transformer Dynamics Model + autoregressive Q-Transformer + DQN critic (discrete) with MPPI planning."),
    ...criticShape,
    tdm: tdmSchema,
    tdmTrain: tdmTrainSchema.prefault({}).describe("TDM training."),
    qt: qtSchema.prefault({}).describe("Q-Transformer."),
    planner: plannerSchema.prefault({}).describe("Acting and MPPI planning."),
    joint: jointSchema.prefault({}).describe("Joint QT-TDM training: loss weights, priorities."),
  })
  .strict();

export type QttdmConfig = z.infer<typeof qttdmConfigSchema>;
export type TdmConfig = z.infer<typeof tdmSchema>;
export type TdmTrainConfig = z.infer<typeof tdmTrainSchema>;
export type QtConfig = z.infer<typeof qtSchema>;
export type PlannerConfig = z.infer<typeof plannerSchema>;
export type JointConfig = z.infer<typeof jointSchema>;

/** QT-TDM's optimiser settings from the paper's code (Adam β 0.9/0.99, ε 1e-5, weight decay as L2), shared by the TDM and the QT. */
export const QTTDM_ADAM = { beta2: 0.99, eps: 1e-5, decoupledWeightDecay: false } as const;
