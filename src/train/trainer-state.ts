/**
 * The trainer's part of a checkpoint (trainer.json's `trainer` field): counters, RNG states, env
 * positions, the metrics window and where the log files ended. Validated on load, so that a damaged or
 * hand-edited trainer.json is reported as one line naming the file and the field instead of failing
 * somewhere in the resumed run.
 */
import { z } from "zod";
import { FileFormatError } from "../core/errors.js";
import { replayBanditStateSchema } from "./replay-bandit.js";

const count = z.number().int().nonnegative();
const uint32 = z.number().int().min(0).max(0xffffffff);
const rng = z.object({ s: z.tuple([uint32, uint32, uint32, uint32]), spareNormal: z.number().nullable() });

/** A log file of the run directory and its length in bytes when the checkpoint was written. */
const logPosition = z.object({ file: z.string().min(1), bytes: count });
export type LogPosition = z.infer<typeof logPosition>;

export const trainerStateSchema = z.object({
  envSteps: count,
  updates: count,
  episodes: count,
  lastLogStep: count,
  /** The env positions of the local collector (replay.transport: local). */
  collector: z.object({
    episodeCount: z.array(count),
    nextEpisodeId: count,
    episodeId: z.array(count),
    stepInEpisode: z.array(count),
    actions: z.array(z.array(z.number())),
  }).optional(),
  /** The distributed learner's counters (replay.transport: redis; actors restart with fresh episodes). */
  distributed: z.object({ nextEpisodeId: count, nextIncarnation: count, rejectedMessages: count, lostTransitions: count, actorRestarts: count }).optional(),
  rngs: z.object({ act: rng, replay: rng }),
  // A NaN sum (a diverging loss) is written to JSON as null.
  window: z.object({ sums: z.array(z.tuple([z.string(), z.number().nullable().transform((v) => v ?? Number.NaN)])), counts: z.array(z.tuple([z.string(), count])) }),
  evals: z.array(z.object({ step: count, mean: z.number(), std: z.number() })),
  /** Wall-clock seconds spent training, summed over the sessions of a resumed run. */
  trainSeconds: z.number().nonnegative(),
  /** metrics.jsonl and the TensorBoard event files with their lengths (absent in checkpoints before it was kept). */
  logs: z.array(logPosition).optional(),
  /** The (α, β) bandit's state (replay.schedule: bandit). */
  bandit: replayBanditStateSchema.optional(),
});

export type TrainerState = z.infer<typeof trainerStateSchema>;

/** Validates a checkpoint's trainer state. @param source the checkpoint, for the error */
export function parseTrainerState(raw: unknown, source: string): TrainerState {
  const r = trainerStateSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.length ? `trainer.${issue.path.join(".")}` : "trainer";
  throw new FileFormatError(`checkpoint ${source}: trainer.json field "${field}": ${issue.message}; the file is damaged (resume from another checkpoint)`);
}

/**
 * The env steps of a checkpoint's trainer state alone, for what reports them without resuming (`qttdm eval`),
 * so that a checkpoint whose other fields are older or partial still evaluates: 0 where there are none; a damaged
 * value is refused rather than passed on as step 0. @param source the checkpoint, for the error
 */
export function parseEnvSteps(trainer: Record<string, unknown>, source: string): number {
  const steps = trainer.envSteps;
  if (steps === undefined) return 0;
  if (typeof steps !== "number" || !Number.isSafeInteger(steps) || steps < 0) {
    throw new FileFormatError(`checkpoint ${source}: trainer.json field "trainer.envSteps" is ${JSON.stringify(steps)}; expected a non-negative integer (the file is damaged)`);
  }
  return steps;
}
