/**
 * The dqn agent's config (`agent` with `kind: dqn`) and the critic keys it shares with the qttdm
 * agent, whose discrete-action critic is a DqnAgent.
 */
import { z } from "zod";
import { gammaSchema, positiveInt } from "../config.js";

export const networkSchema = z
  .object({
    hidden: z.array(positiveInt()).min(1).default([256, 256]).describe("Hidden layer widths of the Q-network MLP."),
    encoderLayers: positiveInt().default(1)
      .describe("How many of the hidden layers form the encoder (trained at encoderLr); the rest and the output form the head."),
    activation: z.enum(["relu", "tanh", "gelu", "leaky_relu"]).default("relu").describe("Hidden activation."),
    dueling: z.boolean().default(false).describe("Dueling head: Q = V + A − mean(A)."),
    layerNorm: z.boolean().default(false)
      .describe("Layer-normalise each hidden layer before its activation (Dense → LayerNorm → activation, as PQN's critic): bounds the features the Q output is linear in, against over-estimation runaways."),
    heads: positiveInt().default(1)
      .describe("Q-heads K on the shared hidden layers (an ensemble of linear output layers, not with dueling): the policy acts on their mean, each head learns from its own Double-DQN target, and the update reports the per-sample spread of the heads' TD errors as tdStd (replay.reliability: ensemble)."),
    headMask: z.number().gt(0).max(1).default(1)
      .describe("Bootstrap masks (Osband et al. 2016): each head trains on a stored transition with this probability, fixed per replay slot and head; 1: every head on every sample."),
  })
  .strict();

export const explorationSchema = z
  .object({
    start: z.number().min(0).max(1).default(1).describe("ε at step 0."),
    end: z.number().min(0).max(1).default(0.05).describe("ε after the decay."),
    fraction: z.number().gt(0).max(1).default(0.12).describe("Fraction of experiment.totalSteps over which ε decays."),
    shape: z.enum(["linear", "cosine"]).default("linear").describe("Shape of the ε decay."),
    network: z.enum(["online", "target", "average"]).default("online")
      .describe("The critic whose greedy action the ε-greedy behaviour policy takes (dqn agent): online; target (the target network, fixed between hard copies); average (the weight average of agent.average, which must be on). An online critic updated every env step changes its argmax between near-tied actions from one step to the next: on LunarLander-v3 the landed lander then fires its side engines at random and never comes to rest, so training episodes run to the time limit that a frozen copy of the same critic ends in ~300 steps (docs/history.md)."),
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

/**
 * The DQN critic's keys. The qttdm agent embeds a DqnAgent as its discrete-action critic and
 * takes these keys too; `average` and `encoderInit` are the dqn agent's alone.
 */
export const criticShape = {
  gamma: gammaSchema(),
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
  exploration: explorationSchema.prefault({}).describe("ε-greedy exploration schedule."),
};

export const dqnConfigSchema = z
  .object({
    kind: z.literal("dqn").describe("Double DQN critic with ε-greedy exploration (discrete actions)."),
    ...criticShape,
    average: averageSchema.prefault({}).describe("Weight average of the DQN critic for the greedy (evaluation) policy."),
    encoderInit: z.string().nullable().default(null)
      .describe("Initialise the encoder from this checkpoint (run dir or checkpoint dir) of an earlier run."),
  })
  .strict();

export type NetworkConfig = z.infer<typeof networkSchema>;
export type LrDecayConfig = z.infer<typeof lrDecaySchema>;
export type ExplorationConfig = z.infer<typeof explorationSchema>;
export type DqnConfig = z.infer<typeof dqnConfigSchema>;
/** What a DqnAgent reads: the critic keys, with the weight average where the dqn agent has one. */
export type CriticConfig = z.infer<z.ZodObject<typeof criticShape>> & { kind: string; average?: DqnConfig["average"] };
