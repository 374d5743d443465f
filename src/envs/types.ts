/** The environment interface: Gymnasium's reset/step semantics with TypeScript shapes. */
import type { Box, Space } from "./spaces.js";

export type Info = Record<string, unknown>;

/** A discrete action is an integer; a continuous one is a Float32Array of the action shape. */
export type Action = number | Float32Array;

export interface ResetOptions {
  /** Reseed the environment's generator (Gymnasium: `reset(seed=...)`). */
  seed?: number;
  options?: Record<string, unknown>;
}

export interface ResetResult {
  observation: Float32Array;
  info: Info;
}

export interface StepResult {
  observation: Float32Array;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: Info;
}

export interface Env<A extends Action = Action> {
  readonly id: string;
  readonly observationSpace: Box;
  readonly actionSpace: Space;
  /** Gymnasium's `spec.reward_threshold` (the score that counts as solved), if any. */
  readonly rewardThreshold?: number;
  reset(opts?: ResetOptions): ResetResult;
  step(action: A): StepResult;
  /** Frees every native/wasm resource; the env is unusable afterwards. */
  close(): void;
}
