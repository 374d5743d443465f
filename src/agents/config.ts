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
  })
  .strict();

export const explorationSchema = z
  .object({
    start: z.number().min(0).max(1).default(1).describe("ε at step 0."),
    end: z.number().min(0).max(1).default(0.05).describe("ε after the decay."),
    fraction: z.number().gt(0).max(1).default(0.12).describe("Fraction of experiment.totalSteps over which ε decays."),
    shape: z.enum(["linear", "cosine"]).default("linear").describe("Shape of the ε decay."),
  })
  .strict();

export const targetSchema = z
  .object({
    mode: z.enum(["hard", "polyak"]).default("hard").describe("hard: copy every `every` updates; polyak: θ⁻ ← τθ + (1−τ)θ⁻ every `every` updates."),
    every: positiveInt().default(250).describe("Gradient updates between target-network updates."),
    tau: z.number().gt(0).max(1).default(0.005).describe("Polyak rate (mode: polyak)."),
  })
  .strict();

export const agentConfigSchema = z
  .object({
    kind: z.enum(["dqn", "qttdm"]).default("dqn").describe("Agent: dqn (Double DQN critic) or qttdm (TDM + Q-Transformer + critic)."),
    gamma: z.number().min(0).lt(1).default(0.99).describe("Discount factor γ (n-step returns use γ^k)."),
    network: networkSchema.prefault({}).describe("Q-network architecture."),
    lr: z.number().positive().default(6.3e-4).describe("Adam learning rate of the head."),
    encoderLr: z.number().positive().nullable().default(null).describe("Adam learning rate of the encoder (null: same as lr)."),
    adamEps: z.number().positive().default(1e-8).describe("Adam ε."),
    clipNorm: z.number().positive().nullable().default(10).describe("Global gradient-norm clip (null: off)."),
    double: z.boolean().default(true).describe("Double DQN target (argmax by the online net); false: vanilla max over the target net."),
    huberDelta: z.number().positive().default(1).describe("Huber loss threshold δ."),
    target: targetSchema.prefault({}).describe("Target network updates."),
    exploration: explorationSchema.prefault({}).describe("ε-greedy exploration schedule."),
    encoderInit: z.string().nullable().default(null)
      .describe("Initialise the encoder from this checkpoint (run dir or checkpoint dir) of an earlier run."),
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
