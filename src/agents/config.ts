/**
 * Agent, training-cadence and DISRC configuration (the `agent`, `train` and `disrc` sections).
 * Keys specific to the QT-TDM agent live in its own sub-sections.
 */
import { z } from "zod";

const positiveInt = () => z.number().int().min(1);

export const networkSchema = z
  .object({
    hidden: z.array(positiveInt()).min(1).default([256, 256]).describe("Hidden layer widths of the Q-network MLP."),
    encoderLayers: positiveInt().default(1)
      .describe("How many of the hidden layers form the encoder (trained at encoderLr); the rest and the output form the head."),
    activation: z.enum(["relu", "tanh", "gelu", "leaky_relu"]).default("relu").describe("Hidden activation."),
    dueling: z.boolean().default(false).describe("Dueling head: Q = V + A − mean(A)."),
    layerNorm: z.boolean().default(false)
      .describe("Layer-normalise each hidden layer before its activation (Dense → LayerNorm → activation, as PQN's critic): bounds the features the Q output is linear in, against over-estimation runaways."),
  })
  .strict();

export const explorationSchema = z
  .object({
    start: z.number().min(0).max(1).default(1).describe("ε at step 0."),
    end: z.number().min(0).max(1).default(0.05).describe("ε after the decay."),
    fraction: z.number().gt(0).max(1).default(0.12).describe("Fraction of experiment.totalSteps over which ε decays."),
    shape: z.enum(["linear", "cosine"]).default("linear").describe("Shape of the ε decay."),
    network: z.enum(["online", "target", "average"]).default("online")
      .describe("The critic whose greedy action the ε-greedy behaviour policy takes (dqn agent): online; target (the target network, fixed between hard copies); average (the weight average of agent.average, which must be on). An online critic updated every env step changes its argmax between near-tied actions from one step to the next: on LunarLander-v3 the landed lander then fires its side engines at random and never comes to rest, so training episodes run to the time limit that a frozen copy of the same critic ends in ~300 steps (docs/results.md)."),
  })
  .strict();

export const lrDecaySchema = z
  .object({
    shape: z.enum(["constant", "linear", "cosine"]).default("constant")
      .describe("constant: no decay; linear or cosine: lr (and encoderLr) fall to endFactor times their value."),
    endFactor: z.number().min(0).max(1).default(0.1).describe("Learning rate at the end of the decay, as a fraction of the configured one."),
    fraction: z.number().gt(0).max(1).default(1).describe("Fraction of the run's gradient updates over which the rate decays; held at the end value after."),
  })
  .strict();
export type LrDecayConfig = z.infer<typeof lrDecaySchema>;

export const targetSchema = z
  .object({
    mode: z.enum(["hard", "polyak"]).default("hard").describe("hard: copy every `every` updates; polyak: θ⁻ ← τθ + (1−τ)θ⁻ every `every` updates."),
    every: positiveInt().default(250).describe("Gradient updates between target-network updates."),
    tau: z.number().gt(0).max(1).default(0.005).describe("Polyak rate (mode: polyak)."),
  })
  .strict();

export const churnSchema = z
  .object({
    mode: z.enum(["off", "fixed", "auto"]).default("off")
      .describe("Value-churn reduction (CHAIN, Tang & Berseth 2024): add λ·mean over a reference batch of states and all actions of (Q_θ(s, ·) − Q_θ′(s, ·))², θ′ the critic as it was before its last update, so that an update moves Q little on the states it is not about. off; fixed: λ = weight; auto: λ = scale · running mean TD loss / running mean churn loss (CHAIN's auto variant)."),
    weight: z.number().min(0).default(1).describe("λ in mode fixed; in mode auto, λ until a churn loss has been measured."),
    scale: z.number().positive().default(0.05).describe("Mode auto: the churn term's target size relative to the TD loss (CHAIN's 0.05)."),
    horizon: positiveInt().default(10_000)
      .describe("Mode auto: the running means are exact over the first `horizon` updates, then exponential with rate 1/horizon (CHAIN averages its last 50k updates; an exponential mean keeps no history in the checkpoint)."),
    batchSize: positiveInt().nullable().default(null)
      .describe("States in the reference batch, drawn uniformly from the replay apart from the training batch (null: train.batchSize)."),
  })
  .strict();

export const averageSchema = z
  .object({
    horizon: positiveInt().nullable().default(null)
      .describe("Greedy policy from a weight average of the DQN critic: after update k the average moves to the online weights by 1/min(k, horizon) (the exact mean of the first `horizon` updates' weights, then an exponential average with rate 1/horizon). Evaluations and `qttdm eval` act greedily with the average and log the online critic's evaluation beside it (`eval/online_episodic_return`); the TD targets use the online and target networks as before, and exploration acts with the network that agent.exploration.network names. null: off (the greedy policy is the online critic's)."),
  })
  .strict();

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

export const agentConfigSchema = z
  .object({
    kind: z.enum(["dqn", "qttdm"]).default("dqn").describe("Agent: dqn (Double DQN critic) or qttdm (TDM + Q-Transformer + critic)."),
    gamma: z.number().min(0).lt(1).default(0.99).describe("Discount factor γ (n-step returns use γ^k)."),
    network: networkSchema.prefault({}).describe("Q-network architecture."),
    lr: z.number().positive().default(6.3e-4).describe("Adam learning rate of the head."),
    encoderLr: z.number().positive().nullable().default(null).describe("Adam learning rate of the encoder (null: same as lr)."),
    lrDecay: lrDecaySchema.prefault({}).describe("Learning-rate decay of the DQN critic over the run (late-training stability)."),
    adamEps: z.number().positive().default(1e-8).describe("Adam ε."),
    clipNorm: z.number().positive().nullable().default(10).describe("Global gradient-norm clip (null: off)."),
    double: z.boolean().default(true).describe("Double DQN target (argmax by the online net); false: vanilla max over the target net."),
    huberDelta: z.number().positive().default(1).describe("Huber loss threshold δ."),
    maxAbsQ: z.number().positive().nullable().default(null)
      .describe("Treat the critic as diverged (stop the run, keep the last good checkpoint) once the mean Q of a sampled batch leaves ±maxAbsQ; null: only NaN/Inf stop it. Q can run away while staying finite (to 10⁷ on LunarLander, whose returns stay within ±10³)."),
    target: targetSchema.prefault({}).describe("Target network updates."),
    churn: churnSchema.prefault({}).describe("Value-churn reduction of the DQN critic (CHAIN)."),
    average: averageSchema.prefault({}).describe("Weight average of the DQN critic for the greedy (evaluation) policy; dqn agent only."),
    exploration: explorationSchema.prefault({}).describe("ε-greedy exploration schedule."),
    encoderInit: z.string().nullable().default(null)
      .describe("Initialise the encoder from this checkpoint (run dir or checkpoint dir) of an earlier run."),
    tdm: tdmSchema,
    tdmTrain: tdmTrainSchema.prefault({}).describe("TDM training (qttdm)."),
    qt: qtSchema.prefault({}).describe("Q-Transformer (qttdm)."),
    planner: plannerSchema.prefault({}).describe("Acting and MPPI planning (qttdm)."),
    joint: jointSchema.prefault({}).describe("Joint QT-TDM training: loss weights, priorities (qttdm)."),
  })
  .strict();

export const trainSchema = z
  .object({
    batchSize: positiveInt().default(128).describe("Transitions per gradient update."),
    learningStarts: z.number().int().nonnegative().default(1_000).describe("Env steps collected before the first update."),
    trainFreq: positiveInt().default(1).describe("Env steps (summed over copies) between rounds of updates."),
    gradientSteps: positiveInt().default(1).describe("Gradient updates per round."),
  })
  .strict();

export const disrcSchema = z
  .object({
    enabled: z.boolean().default(false).describe("Weight each TD loss term by 1 − tanh(S), S the normalised surprise."),
    source: z.enum(["model", "setpoint", "tdm"]).default("model")
      .describe("Surprise: model (separate MLP predicting the next latent), setpoint (DISRC paper's latent deviation), tdm (the TDM's error; qttdm only)."),
    target: z.enum(["latent", "observation"]).default("latent")
      .describe("What the surprise model predicts: the next latent of a fixed random encoder, or the next observation."),
    hidden: z.array(positiveInt()).min(1).default([128, 128]).describe("Surprise-model MLP hidden widths."),
    latentDim: positiveInt().default(32).describe("Width of the fixed random encoder's latent."),
    lr: z.number().positive().default(1e-3).describe("Surprise-model learning rate."),
    statsRate: z.number().gt(0).max(1).default(0.01).describe("EMA rate of the running mean/variance of prediction errors."),
    scale: z.number().positive().default(3).describe("κ in S = clip((e − μ) / (κσ), 0, 1): errors κσ above the running mean get S = 1."),
    setpointRate: z.number().gt(0).max(1).default(0.01).describe("Set-point EMA rate (source: setpoint)."),
  })
  .strict();

export type NetworkConfig = z.infer<typeof networkSchema>;
export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type TrainConfig = z.infer<typeof trainSchema>;
export type DisrcConfig = z.infer<typeof disrcSchema>;
export type TdmConfig = z.infer<typeof tdmSchema>;
export type TdmTrainConfig = z.infer<typeof tdmTrainSchema>;
export type QtConfig = z.infer<typeof qtSchema>;
export type PlannerConfig = z.infer<typeof plannerSchema>;
export type JointConfig = z.infer<typeof jointSchema>;

/** QT-TDM's optimiser settings from the paper's code (Adam β 0.9/0.99, ε 1e-5, weight decay as L2), shared by the TDM and the QT. */
export const QTTDM_ADAM = { beta2: 0.99, eps: 1e-5, decoupledWeightDecay: false } as const;
