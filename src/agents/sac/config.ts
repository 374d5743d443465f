/**
 * The sac agent's config (`agent` with `kind: sac`). Defaults are CleanRL's
 * `sac_continuous_action.py` (Haarnoja et al. 2018's SAC with twin critics and automatic entropy
 * tuning): 256-256 ReLU networks, critic lr 1e-3, actor lr 3e-4, τ 0.005, delayed actor updates.
 */
import { z } from "zod";
import { gammaSchema, positiveInt } from "../config.js";

const hidden = () => z.array(positiveInt()).min(1).default([256, 256]);

export const sacActorSchema = z
  .object({
    hidden: hidden().describe("Hidden widths of the policy MLP (ReLU); it outputs the mean and log-std of a Gaussian per action dimension."),
    lr: z.number().positive().default(3e-4).describe("Adam learning rate of the policy."),
    logStdMin: z.number().default(-5).describe("Lower bound of the log-std (the raw output is squashed into [logStdMin, logStdMax] by tanh, as CleanRL)."),
    logStdMax: z.number().default(2).describe("Upper bound of the log-std."),
    updateEvery: positiveInt().default(2)
      .describe("Delayed policy updates (CleanRL's policy_frequency): every k-th critic update makes k policy (and temperature) steps, so both move at the same average rate."),
  })
  .strict();

export const sacCriticSchema = z
  .object({
    hidden: hidden().describe("Hidden widths of each of the twin Q(s, a) MLPs (ReLU)."),
    lr: z.number().positive().default(1e-3).describe("Adam learning rate of the twin critics."),
    tau: z.number().gt(0).max(1).default(0.005).describe("Polyak rate of the target critics: θ⁻ ← τθ + (1−τ)θ⁻."),
    targetEvery: positiveInt().default(1).describe("Critic updates between Polyak steps of the target critics."),
  })
  .strict();

export const sacEntropySchema = z
  .object({
    auto: z.boolean().default(true).describe("Tune the temperature α by gradient descent on −log α · (log π(a|s) + target) (SAC v2); false: α stays at `alpha`."),
    alpha: z.number().positive().default(0.2).describe("The fixed temperature when auto is false."),
    initial: z.number().positive().default(1).describe("α at the start when auto is true (CleanRL: log α = 0)."),
    target: z.number().nullable().default(null).describe("Target entropy (null: −dim(A), the SAC paper's heuristic)."),
    lr: z.number().positive().default(1e-3).describe("Adam learning rate of log α (CleanRL: the critic's)."),
  })
  .strict();

export const sacConfigSchema = z
  .object({
    kind: z.literal("sac").describe("Soft Actor-Critic (continuous actions): twin critics, squashed Gaussian policy, automatic temperature."),
    gamma: gammaSchema(),
    actor: sacActorSchema.prefault({}).describe("The squashed Gaussian policy."),
    critic: sacCriticSchema.prefault({}).describe("The twin soft Q critics and their targets."),
    entropy: sacEntropySchema.prefault({}).describe("The entropy temperature α."),
    adamEps: z.number().positive().default(1e-8).describe("Adam ε of every SAC optimiser."),
    clipNorm: z.number().positive().nullable().default(null).describe("Global gradient-norm clip of the critic and policy updates (null: off, as CleanRL)."),
  })
  .strict();

export type SacConfig = z.infer<typeof sacConfigSchema>;
