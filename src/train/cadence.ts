/** When the trainer updates: `gradientSteps` updates per `trainFreq` env steps, from `learningStarts` on. */
import type { TrainConfig } from "../agents/config.js";

/**
 * Gradient updates due while the env-step counter moves from `before` to `after` (summed over the
 * vector env's copies, so it may jump by more than one): one round for every multiple of
 * `trainFreq` crossed at or after `learningStarts`. Over a whole run, `updatesDue(0, totalSteps)`.
 */
export function updatesDue(before: number, after: number, cadence: TrainConfig): number {
  if (after < cadence.learningStarts) return 0;
  const rounds = Math.floor(after / cadence.trainFreq) - Math.floor(Math.max(before, cadence.learningStarts - 1) / cadence.trainFreq);
  return Math.max(0, rounds) * cadence.gradientSteps;
}
