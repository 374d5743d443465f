/** Environment wrappers with Gymnasium semantics. */
import { EnvError, show } from "../core/errors.js";
import type { Box, Space } from "./spaces.js";
import type { Action, Env, ResetOptions, ResetResult, StepResult } from "./types.js";

/**
 * Gymnasium's `TimeLimit`: `truncated` becomes true on the `maxEpisodeSteps`-th step.
 * Unlike Gymnasium it also refuses a step after the episode ended (terminated or truncated)
 * until `reset()`, because stepping a finished episode is always a bug in the caller.
 */
export class TimeLimit<A extends Action = Action> implements Env<A> {
  readonly id: string;
  readonly observationSpace: Box;
  readonly actionSpace: Space;
  readonly rewardThreshold?: number;
  private elapsed = 0;
  private needsReset = true;
  private hasReset = false;

  constructor(
    readonly env: Env<A>,
    readonly maxEpisodeSteps: number,
    rewardThreshold?: number,
  ) {
    if (!Number.isInteger(maxEpisodeSteps) || maxEpisodeSteps < 1) {
      throw new EnvError(`TimeLimit(${env.id}): maxEpisodeSteps must be a positive integer, got ${show(maxEpisodeSteps)}`);
    }
    this.id = env.id;
    this.observationSpace = env.observationSpace;
    this.actionSpace = env.actionSpace;
    this.rewardThreshold = rewardThreshold ?? env.rewardThreshold;
  }

  /** The innermost environment (Gymnasium's `env.unwrapped`). */
  get unwrapped(): Env<A> {
    let e: Env<A> = this.env;
    while (e instanceof TimeLimit) e = e.env;
    return e;
  }

  /** Steps taken in the current episode. */
  get elapsedSteps(): number {
    return this.elapsed;
  }

  reset(opts?: ResetOptions): ResetResult {
    const r = this.env.reset(opts);
    this.elapsed = 0;
    this.needsReset = false;
    this.hasReset = true;
    return r;
  }

  step(action: A): StepResult {
    if (this.needsReset) {
      throw new EnvError(
        this.hasReset
          ? `${this.id}: step() called after the episode ended (terminated or truncated); call reset() first`
          : `${this.id}: step() called before reset()`,
      );
    }
    const r = this.env.step(action);
    this.elapsed += 1;
    if (this.elapsed >= this.maxEpisodeSteps) r.truncated = true;
    if (r.terminated || r.truncated) this.needsReset = true;
    return r;
  }

  close(): void {
    this.env.close();
  }
}
