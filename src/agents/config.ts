/**
 * Config pieces every agent shares: the `train` cadence, the `disrc` section, and the helpers that
 * agent schemas are written with. Each agent declares its own `agent` schema next to its code
 * (`src/agents/<kind>/config.ts`); the registry (`registry.ts`) joins them into one union on `kind`.
 */
import { z } from "zod";

export const positiveInt = () => z.number().int().min(1);
/** The discount factor, a key of every agent. */
export const gammaSchema = () => z.number().min(0).lt(1).default(0.99).describe("Discount factor γ (n-step returns use γ^k).");

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

export type TrainConfig = z.infer<typeof trainSchema>;
export type DisrcConfig = z.infer<typeof disrcSchema>;
