/**
 * The typed configuration of a qttdm run. Every key has a default and a one-line doc (`.describe`);
 * `docs/configs.md` is generated from this schema (`npm run docs`), and a test fails when it is stale.
 * Sections owned by other modules (replay, agent) are declared in those modules and composed here.
 */
import { z } from "zod";
import { disrcSchema, trainSchema } from "../agents/config.js";
// Registers the built-in agents, whose schemas make up the `agent` section.
import type { AgentConfig } from "../agents/index.js";
import "../agents/index.js";
import { agentUnionSchema } from "../agents/registry.js";
import { backendConfigShape } from "../backend/index.js";
import { distributedSchema, redisSchema } from "../distributed/config.js";
import { replayConfigSchema } from "../replay/config.js";

/** Non-negative integer step counts. */
const steps = () => z.number().int().nonnegative();

export const experimentSchema = z
  .object({
    name: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/, "letters, digits, '.', '_' or '-'").default("default")
      .describe("Experiment name; part of the run directory name."),
    seed: z.number().int().nonnegative().default(1).describe("Seed for every random stream of the run (env i gets seed + i)."),
    totalSteps: steps().min(1).default(200_000).describe("Environment steps to train for (summed over vector env copies)."),
    ...backendConfigShape,
    runsDir: z.string().default("runs").describe("Directory under which run directories are created."),
  })
  .strict();

export const envSchema = z
  .object({
    id: z.string().default("LunarLander-v3").describe("Registered environment id (`qttdm env list`)."),
    options: z.record(z.string(), z.unknown()).default({})
      .describe("Options passed to makeEnv, e.g. {continuous: true, enableWind: true}; validated by the env."),
    numEnvs: z.number().int().min(1).max(256).default(1).describe("Environment copies stepped together by the collector."),
  })
  .strict();

/** Two runs of episodes (episode i on seed + i) share a seed; a run of no episodes shares none. */
export function seedRangesOverlap(a: { seed: number; episodes: number }, b: { seed: number; episodes: number }): boolean {
  return a.episodes > 0 && b.episodes > 0 && a.seed < b.seed + b.episodes && b.seed < a.seed + a.episodes;
}

export const evalSchema = z
  .object({
    every: steps().default(10_000).describe("Evaluate every this many env steps (0 disables periodic evaluation). A distributed run (replay.transport: redis) evaluates in its own process while the learner trains on; results are logged at the step they belong to."),
    episodes: z.number().int().min(1).default(5).describe("Greedy evaluation episodes, on fixed seeds."),
    seed: z.number().int().nonnegative().default(1_000_000)
      .describe("Seed of the first evaluation episode (episode i uses seed + i), disjoint from training seeds."),
    heldOut: z
      .object({
        episodes: steps().default(0)
          .describe("Greedy episodes the final policy plays once training ends, on seeds no evaluation during training saw; 0: none. Written to eval/held-out.json; `qttdm report` and compare's summary show them."),
        seed: z.number().int().nonnegative().default(2_000_000)
          .describe("Seed of the first held-out episode (episode i uses seed + i); disjoint from eval.seed's range (checked) and from training's (seed + i + numEnvs·k, below it unless a run has a million episodes)."),
      })
      .strict()
      .prefault({})
      .describe("A held-out evaluation of the final policy: a score that no choice made during training (the bandit's, a best-checkpoint pick) has seen."),
  })
  .strict()
  .superRefine((e, ctx) => {
    // zod runs this even when a field failed its own check; then that field's error is the one to show.
    const numbers = [e.seed, e.episodes, e.heldOut?.seed, e.heldOut?.episodes];
    if (!numbers.every((n) => Number.isSafeInteger(n))) return;
    if (seedRangesOverlap(e.heldOut, e)) {
      ctx.addIssue({
        code: "custom",
        path: ["heldOut", "seed"],
        input: e.heldOut.seed,
        message: `held-out seeds ${e.heldOut.seed}..${e.heldOut.seed + e.heldOut.episodes - 1} overlap the evaluation seeds ${e.seed}..${e.seed + e.episodes - 1}; expected disjoint ranges`,
      });
    }
  });

export const checkpointSchema = z
  .object({
    every: steps().default(50_000).describe("Write a checkpoint every this many env steps (0: only at the end)."),
    replay: z.boolean().default(true).describe("Include the replay buffer in checkpoints (needed for exact resume)."),
  })
  .strict();

export const loggingSchema = z
  .object({
    tensorboard: z.boolean().default(true).describe("Write a TensorBoard event file besides metrics.jsonl."),
    every: z.number().int().min(1).default(1_000).describe("Log training scalars every this many env steps."),
    flushSeconds: z.number().positive().default(5).describe("Flush logs to disk at least this often."),
    progress: z.boolean().default(true).describe("Show a progress display (a plain periodic line when not a TTY)."),
  })
  .strict();

/**
 * The composed schema. Sections are objects with `.prefault({})` so that an absent section gets
 * every default (zod 4's `.default` would return the literal `{}` without filling it).
 */
export const configSchema = z
  .object({
    experiment: experimentSchema.prefault({}).describe("Run identity, length and compute backend."),
    env: envSchema.prefault({}).describe("Environment and vectorisation."),
    // Lazy, so that agents registered after this module loads (plug-ins) are part of the union.
    agent: z.lazy(() => agentUnionSchema() as z.ZodType<AgentConfig>).prefault({}).describe("The learning agent and its networks; the keys depend on agent.kind."),
    train: trainSchema.prefault({}).describe("Collection and update cadence."),
    replay: replayConfigSchema.prefault({}).describe("Replay buffer storage and sampler."),
    disrc: disrcSchema.prefault({}).describe("DISRC surprise-scaled TD losses."),
    eval: evalSchema.prefault({}).describe("Periodic greedy evaluation."),
    checkpoint: checkpointSchema.prefault({}).describe("Checkpoints for resuming and evaluation."),
    logging: loggingSchema.prefault({}).describe("Metrics, TensorBoard and progress display."),
    distributed: distributedSchema.prefault({}).describe("Actor processes feeding one learner through Redis (replay.transport: redis; docs/distributed.md)."),
    redis: redisSchema.prefault({}).describe("The Redis server of replay.transport: redis."),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.distributed?.actors > 0 && config.replay?.transport !== "redis") {
      ctx.addIssue({
        code: "custom",
        path: ["distributed", "actors"],
        input: config.distributed.actors,
        message: `expected 0 with replay.transport = ${JSON.stringify(config.replay?.transport)}; actor processes need replay.transport: redis`,
      });
    }
    // A buffer smaller than one batch, or than one n-step return, trains on a handful of transitions.
    // zod runs this even when a field failed its own check; then that field's error is the one to show.
    const { capacity, nStep } = config.replay ?? {};
    const replayShape = replayConfigSchema.shape;
    const fieldsValid = [
      [replayShape.capacity, capacity],
      [replayShape.nStep, nStep],
      [trainSchema.shape.batchSize, config.train?.batchSize],
    ].every(([schema, value]) => typeof value === "number" && (schema as z.ZodType).safeParse(value).success);
    if (!fieldsValid) return;
    const bounds = [
      { need: config.train.batchSize, why: `train.batchSize = ${config.train.batchSize} (transitions sampled per update)` },
      { need: nStep + 1, why: `replay.nStep + 1 = ${nStep + 1} (transitions spanned by one n-step return)` },
    ];
    const unmet = bounds.filter((b) => capacity < b.need);
    if (unmet.length === 0) return;
    ctx.addIssue({
      code: "custom",
      path: ["replay", "capacity"],
      input: capacity,
      message: `expected >= ${unmet.map((b) => b.why).join(" and >= ")}`,
    });
  });

/** A fully resolved config (every default filled in). */
export type Config = z.infer<typeof configSchema>;
