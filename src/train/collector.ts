/**
 * The collector steps a vector env with the agent's actions and turns each step into a columnar
 * `TransitionBatch` for the replay buffer (episode ids, in-episode step indices, the true final
 * observation of ended episodes).
 *
 * Exact resume: training episode k of copy i is reset with seed `seed + i + numEnvs·k`, and the
 * collector remembers each copy's actions since its episode began. A checkpoint stores those;
 * resuming re-creates the envs, resets each copy with its episode's seed and replays the actions,
 * which rebuilds the physics state exactly (the envs are deterministic), so a resumed run continues
 * as if never interrupted. The cost is at most one episode of env steps per copy.
 */
import { EnvError } from "../core/errors.js";
import type { VectorEnv, VectorStepResult } from "../envs/vector.js";
import type { TransitionBatch } from "../replay/buffer.js";

export interface CollectorState {
  episodeCount: number[];
  nextEpisodeId: number;
  episodeId: number[];
  stepInEpisode: number[];
  /** Actions of each copy's current episode, flattened. */
  actions: number[][];
}

export class Collector {
  readonly n: number;
  readonly obsDim: number;
  readonly actionDim: number;
  /** Current observations [n * obsDim]. */
  obs: Float32Array;
  private episodeCount: number[];
  private nextEpisodeId: number;
  private episodeId: number[];
  private stepInEpisode: number[];
  private actions: number[][];

  constructor(readonly vec: VectorEnv, readonly seed: number) {
    this.n = vec.num;
    this.obsDim = vec.obsDim;
    this.actionDim = vec.actionDim;
    this.episodeCount = new Array(this.n).fill(0);
    this.episodeId = Array.from({ length: this.n }, (_, i) => i);
    this.nextEpisodeId = this.n;
    this.stepInEpisode = new Array(this.n).fill(0);
    this.actions = Array.from({ length: this.n }, () => []);
    vec.setAutoresetSeed((copy) => this.episodeSeed(copy, this.episodeCount[copy]! + 1));
    this.obs = vec.reset({ seed }).observations;
  }

  private episodeSeed(copy: number, episode: number): number {
    return this.seed + copy + this.n * episode;
  }

  /** Steps every copy; returns the transitions to store and the raw step result. */
  step(actions: Int32Array | Float32Array): { batch: TransitionBatch; result: VectorStepResult } {
    const { n, obsDim, actionDim } = this;
    const result = this.vec.step(actions);
    const nextObs = result.observations.slice();
    const episodeId = new Int32Array(n);
    const stepInEpisode = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      episodeId[i] = this.episodeId[i]!;
      stepInEpisode[i] = this.stepInEpisode[i]!;
      const final = result.info.finalObservation[i];
      for (let k = 0; k < actionDim; k++) this.actions[i]!.push(actions[i * actionDim + k]!);
      if (final) {
        nextObs.set(final, i * obsDim);
        this.episodeCount[i]! += 1;
        this.episodeId[i] = this.nextEpisodeId++;
        this.stepInEpisode[i] = 0;
        this.actions[i] = [];
      } else {
        this.stepInEpisode[i]! += 1;
      }
    }
    const batch: TransitionBatch = {
      obs: this.obs,
      action: actions,
      reward: result.rewards,
      terminated: result.terminated,
      truncated: result.truncated,
      nextObs,
      episodeId,
      stepInEpisode,
    };
    this.obs = result.observations;
    return { batch, result };
  }

  state(): CollectorState {
    return {
      episodeCount: [...this.episodeCount],
      nextEpisodeId: this.nextEpisodeId,
      episodeId: [...this.episodeId],
      stepInEpisode: [...this.stepInEpisode],
      actions: this.actions.map((a) => [...a]),
    };
  }

  /** Restores counters and rebuilds every copy's env state by replaying its episode's actions. */
  restore(s: CollectorState): void {
    if (s.episodeCount.length !== this.n) {
      throw new EnvError(`resume: the checkpoint has ${s.episodeCount.length} env copies, the config asks for ${this.n}`);
    }
    this.episodeCount = [...s.episodeCount];
    this.nextEpisodeId = s.nextEpisodeId;
    this.episodeId = [...s.episodeId];
    this.stepInEpisode = [...s.stepInEpisode];
    this.actions = s.actions.map((a) => [...a]);
    this.obs = this.vec.replay(
      this.episodeCount.map((k, i) => this.episodeSeed(i, k)),
      this.actions,
    );
  }
}
