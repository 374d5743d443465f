/**
 * Replay buffer configuration (the `replay` section of a run config).
 *
 * Step units: every schedule here is indexed by the `step` given to `ReplayBuffer.sample`; the
 * trainer passes its gradient-update counter, so horizons count updates, not env steps.
 * The discount γ for n-step returns is not configured here: it is the agent's γ, passed to the
 * buffer in its `ReplaySpec`, so that there is one source of truth for it.
 */
import { z } from "zod";
import { ESTIMATORS } from "./reliability/index.js";
import { SAMPLERS } from "./samplers/index.js";

const unit = () => z.number().min(0).max(1);

/** The names of a registry as a zod enum, and "name: phrase" of each for its description. */
function choices<K extends string>(registry: Record<K, { describe: string }>): { names: [K, ...K[]]; text: string } {
  const names = Object.keys(registry) as [K, ...K[]];
  return { names, text: names.map((k) => `${k}: ${registry[k].describe}`).join("; ") };
}
const samplers = choices(SAMPLERS);
const estimators = choices(ESTIMATORS);

export const banditSchema = z
  .object({
    arms: z.array(z.tuple([unit(), unit()])).min(1)
      .default([[0.7, 0], [0.7, 0.5], [0.4, 0], [0.4, 0.5], [0.1, 0.5], [0.1, 1]])
      .describe("The (α, β) pairs the bandit chooses among: α on |δ| + eps, β on the reliability 1 − ρ."),
    every: z.number().int().min(1).default(1_000).describe("Gradient updates per arm choice (progress td-loss)."),
    window: z.number().int().min(1).default(20).describe("Choices the sliding-window UCB remembers (older rewards are forgotten: the best arm changes as learning goes on)."),
    exploration: z.number().min(0).default(1).describe("UCB's c in mean + c·√(ln min(t, window) / n) on rewards scaled by the window's mean |reward|."),
    progress: z.enum(["td-loss", "eval"]).default("td-loss")
      .describe("The reward of a choice: td-loss, the drop over its `every` updates of the critic's TD loss on a probe of stored transitions drawn uniformly when it starts (measured before and after on the same transitions; training may sample them too); eval, the change of the evaluation return between consecutive evaluations (a choice then lasts from one evaluation to the next)."),
    probeSize: z.number().int().min(1).default(256).describe("Transitions in the td-loss probe (progress td-loss)."),
  })
  .strict();

export const replayConfigSchema = z
  .object({
    capacity: z.number().int().min(1).max(2 ** 30).default(1_000_000)
      .describe("Transitions held; the oldest is overwritten when full."),
    sampler: z.enum(samplers.names).default("reaper").describe(`How transitions are drawn. ${samplers.text}.`),
    alpha: unit().default(0.6).describe("PER priority exponent α: P(i) ∝ (|δ_i| + eps)^α."),
    eps: z.number().positive().default(1e-6).describe("Added to |δ| so that no priority is zero (PER and ReaPER+)."),
    isCorrection: z.boolean().default(true)
      .describe("Return importance-sampling weights (N·P(i))^−β / max w for prioritised samplers (1 when off)."),
    isBetaStart: unit().default(0.4).describe("IS exponent β at step 0 (annealed linearly)."),
    isBetaEnd: unit().default(1).describe("IS exponent β at the end of isBetaSteps."),
    isBetaSteps: z.number().int().nonnegative().default(1_000_000).describe("Steps over which the IS β anneals."),
    reaperAlphaStart: unit().default(0.7).describe("ReaPER+ exponent α(t) on |δ| + eps at step 0."),
    reaperAlphaEnd: unit().default(0.1).describe("ReaPER+ exponent α(t) at the end of reaperHorizon."),
    reaperBetaStart: unit().default(0).describe("ReaPER+ exponent β(t) on the reliability 1 − ρ at step 0."),
    reaperBetaEnd: unit().default(0.5).describe("ReaPER+ exponent β(t) at the end of reaperHorizon."),
    reaperHorizon: z.number().int().nonnegative().default(1_000_000)
      .describe("Steps over which ReaPER+'s α and β move from start to end, then stay."),
    reaperShape: z.enum(["linear", "cosine"]).default("linear").describe("Shape of the ReaPER+ α/β annealing."),
    reliability: z.enum(estimators.names).default("td-spread").describe(`Unreliability ρ estimator. ${estimators.text}.`),
    episodeTolerance: z.number().min(0).max(1).default(0.1)
      .describe("episode estimator: how far the ρ a priority uses may be from the ReaPER rule applied to the current TD errors (absolute, ρ ∈ [0, 1]); episodes are recomputed lazily within it (docs/algorithms.md). 0: every changed ρ is recomputed before each draw."),
    spreadRate: z.number().gt(0).max(1).default(0.3)
      .describe("EMA rate of the td-spread and ensemble estimators (weight of the newest spread measurement)."),
    nStep: z.number().int().min(1).max(64).default(1)
      .describe("n-step returns computed at sample time (stop at episode end; truncation bootstraps)."),
    refreshTolerance: z.number().min(0).default(0.01)
      .describe("ReaPER+: rebuild every priority when α(t) or β(t) moved more than this since the last rebuild."),
    refreshNormTolerance: z.number().min(0).default(0.05)
      .describe("ReaPER+: also rebuild when the drift of the buffer-mean spread ū could move a priority by more than this factor (β·|ln(ū/ū_rebuild)| > ln(1 + tol))."),
    refreshEvery: z.number().int().nonnegative().default(0)
      .describe("ReaPER+: also rebuild after this many updatePriorities calls (0: only on the triggers above)."),
    sequenceStart: z.enum(["sampler", "uniform"]).default("sampler")
      .describe("How sampleSequences picks window starts: by the configured sampler (with IS weights) or uniformly."),
    schedule: z.enum(["fixed", "bandit"]).default("fixed")
      .describe("How ReaPER+'s (α, β) move: fixed, the annealing of reaperAlpha*/reaperBeta* over reaperHorizon; bandit, a sliding-window UCB over replay.bandit.arms, switching every replay.bandit.every updates and rewarded by learning progress (sampler reaper only)."),
    bandit: banditSchema.prefault({}).describe("The (α, β) bandit of replay.schedule: bandit."),
    transport: z.enum(["local", "redis"]).default("local")
      .describe("How transitions reach the buffer: local, collected in the trainer's process; redis, sent by actor processes through a Redis stream to the learner, which owns the buffer (distributed.*, redis.url; docs/distributed.md)."),
  })
  .strict();

export type ReplayConfig = z.infer<typeof replayConfigSchema>;
/** A config before defaults are filled in (every key optional). */
export type ReplayConfigInput = z.input<typeof replayConfigSchema>;

/** The config with every default (for tests and callers that build a buffer directly). */
export function replayConfig(overrides: ReplayConfigInput = {}): ReplayConfig {
  return replayConfigSchema.parse(overrides);
}
