/**
 * The agent interface between the trainer and the learners (DQN critic, QT-TDM). Data crosses it
 * as typed arrays: observations batch-major `[n * obsDim]`, actions `[n]` (discrete, Int32Array) or
 * `[n * actionDim]` (continuous, Float32Array).
 */
import type { Rng } from "../core/rng.js";
import type { DisrcConfig } from "./config.js";
import type { Box, Space } from "../envs/spaces.js";
import type { ReplaySpec, SampleInfo, SampledBatch, SequenceBatch } from "../replay/buffer.js";

/**
 * explore: the training policy (ε-greedy, planner noise); greedy: the policy that is evaluated;
 * greedy-online: greedy with the online critic where the greedy policy acts with a weight average
 * (`agent.average`), the same as greedy otherwise.
 */
export type ActMode = "explore" | "greedy" | "greedy-online";
/** The modes that evaluate a policy rather than collect with it. */
export type GreedyMode = Exclude<ActMode, "explore">;

/** Scalars an update reports for logging (tag → value), e.g. `losses/td_loss`. */
export type Scalars = Record<string, number>;

/**
 * The shared replay buffer as an agent sees it during an update: draws are bound to the trainer's
 * replay Rng and update counter, so an agent decides what it needs (transitions for a critic,
 * windows for a dynamics model, or both) without owning the buffer. A batch is valid until the
 * next draw of its kind (the buffer recycles its memory), so an update must not keep one; the
 * indices it returns are read before the next update draws.
 */
export interface ReplaySource {
  sample(n: number): SampledBatch;
  sampleSequences(n: number, len: number): SequenceBatch;
  /** Observations [n · obsDim] of n stored transitions drawn uniformly, not for training on (reference states). */
  sampleObservations(n: number): Float32Array;
}

/** What an update gives back to the replay buffer and the logger. */
export interface UpdateResult {
  /** Replay indices whose priorities this update's TD errors refresh. */
  indices: Int32Array;
  /** `sampledAt` of the draw those indices came from (stale ones are skipped). */
  sampledAt: number;
  /** How that draw was made (replay telemetry). */
  info: SampleInfo;
  /** Per-sample TD error (signed) of the critic. */
  tdError: Float32Array;
  /** Per-sample spread of TD errors across critic heads (ensemble reliability), when available. */
  tdStd?: Float32Array;
  /** Per-sample normalised surprise S ∈ [0, 1] (DISRC), when enabled. */
  surprise?: Float32Array;
  scalars: Scalars;
}

/** What an agent is built from: its config sections and the run's size. `C` is its kind's `agent` section. */
export interface AgentSettings<C extends { kind: string } = { kind: string }> {
  agent: C;
  disrc: DisrcConfig;
  /** Env steps of the whole run (ε decays over a fraction of it). */
  totalSteps: number;
  /** Gradient updates the run will make (learning-rate decay runs over a fraction of them). */
  totalUpdates: number;
  /** Transitions per update. */
  batchSize: number;
  /** Env steps collected before the first update (train.learningStarts). */
  learningStarts: number;
  /** The agent's weights are about to be replaced from a checkpoint: skip initialising them from other runs. */
  restoring: boolean;
}

export interface AgentEnvSpec {
  observationSpace: Box;
  actionSpace: Space;
}

/** Serialisable agent state for checkpoints: weight blobs plus JSON-able counters. */
export interface AgentState {
  /** Named binary blobs (network weights, optimiser state). */
  blobs: Record<string, Uint8Array>;
  /** Counters, RNG states and anything else small. */
  meta: Record<string, unknown>;
}

export interface Agent {
  readonly kind: string;
  /**
   * Actions for a batch of observations. `step` is the env-step counter (exploration schedules);
   * exploration randomness comes from `rng`.
   */
  act(obs: Float32Array, n: number, mode: ActMode, step: number, rng: Rng): Int32Array | Float32Array;
  /** One gradient update drawing from the shared replay; returns what goes back to the buffer and the logger. */
  update(replay: ReplaySource): UpdateResult;
  /** The replay layout this agent needs (observation size, action kind, its γ for n-step returns). */
  replaySpec(): ReplaySpec;
  /** Scalars describing the current acting policy (e.g. `charts/epsilon`). */
  actScalars(step: number): Scalars;
  state(): AgentState;
  load(state: AgentState): void;
  /**
   * Per-sample TD loss of the critic on a batch, without training on it (the learning progress that
   * replay.bandit's td-loss reward measures); absent where the agent has no such critic.
   */
  probeLosses?(batch: SampledBatch): Float32Array;
  /** Number of trainable parameters per component, e.g. {critic: 68_000}. */
  parameterCounts(): Record<string, number>;
  dispose(): void;
}
