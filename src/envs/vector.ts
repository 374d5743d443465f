/**
 * A synchronous vector of n copies of one environment with Gymnasium's SAME_STEP autoreset:
 * when a copy's episode ends, the observation returned for it is already the first one of the next
 * episode, and the last observation/info of the finished episode are in `info.finalObservation[i]` /
 * `info.finalInfo[i]`. Results are batched typed arrays; finished episodes are reported with their
 * return and length so that a trainer can log them without tracking them itself.
 */
import { EnvError, show } from "../core/errors.js";
import { makeEnv, type MakeSettings } from "./make.js";
import { flatSize, type Box, type Space } from "./spaces.js";
import type { Env, Info } from "./types.js";

export interface EpisodeRecord {
  /** Which copy finished. */
  index: number;
  return: number;
  length: number;
  terminated: boolean;
  truncated: boolean;
}

export interface VectorResetResult {
  /** [n * obsDim], copy i at i * obsDim. */
  observations: Float32Array;
  infos: Info[];
}

export interface VectorInfo {
  /** Per copy: the last observation of the episode that ended in this step, else null. */
  finalObservation: (Float32Array | null)[];
  /** Per copy: the info of that last step, else null. */
  finalInfo: (Info | null)[];
  /** Episodes that ended in this step. */
  episodes: EpisodeRecord[];
}

export interface VectorStepResult {
  /** [n * obsDim]; for copies whose episode ended, the first observation of the next episode. */
  observations: Float32Array;
  rewards: Float64Array;
  /** 1 where the copy's episode terminated / was truncated in this step. */
  terminated: Uint8Array;
  truncated: Uint8Array;
  info: VectorInfo;
}

export class VectorEnv {
  readonly num: number;
  readonly obsDim: number;
  /** Size of one copy's action: 1 for Discrete, the Box size otherwise. */
  readonly actionDim: number;
  readonly observationSpace: Box;
  readonly actionSpace: Space;
  private readonly returns: Float64Array;
  private readonly lengths: Int32Array;
  private readonly actionBufs: Float32Array[];
  private seeded = false;
  private autoresetSeed: ((copy: number) => number) | null = null;
  private ready = false;
  private closed = false;

  constructor(private readonly envs: Env[]) {
    if (envs.length === 0) throw new EnvError("VectorEnv needs at least one environment");
    const first = envs[0]!;
    this.num = envs.length;
    this.observationSpace = first.observationSpace;
    this.actionSpace = first.actionSpace;
    this.obsDim = flatSize(first.observationSpace);
    this.actionDim = flatSize(first.actionSpace);
    this.returns = new Float64Array(this.num);
    this.lengths = new Int32Array(this.num);
    this.actionBufs = envs.map(() => new Float32Array(this.actionDim));
  }

  get id(): string {
    return this.envs[0]!.id;
  }

  /**
   * Resets every copy. With a seed, copy i gets seed + i; without one, copies continue their own
   * streams (on the very first reset they are seeded 0..n-1 so that they differ).
   */
  reset(opts: { seed?: number } = {}): VectorResetResult {
    this.assertOpen();
    let base = opts.seed;
    if (base === undefined && !this.seeded) base = 0;
    if (base !== undefined && (!Number.isSafeInteger(base) || base < 0)) {
      throw new EnvError(`${this.id} vector reset: seed must be a non-negative integer, got ${show(base)}`);
    }
    const observations = new Float32Array(this.num * this.obsDim);
    const infos: Info[] = [];
    for (let i = 0; i < this.num; i++) {
      const r = this.envs[i]!.reset(base === undefined ? {} : { seed: base + i });
      observations.set(r.observation, i * this.obsDim);
      infos.push(r.info);
    }
    this.seeded = true;
    this.returns.fill(0);
    this.lengths.fill(0);
    this.ready = true;
    return { observations, infos };
  }

  /**
   * Steps every copy. `actions`: for Discrete, n integers; for Box, n * actionDim numbers
   * (copy i at i * actionDim).
   */
  step(actions: ArrayLike<number>): VectorStepResult {
    this.assertOpen();
    if (!this.ready) throw new EnvError(`${this.id} vector step() called before reset()`);
    const expected = this.num * this.actionDim;
    if (actions === null || typeof actions !== "object" || actions.length !== expected) {
      throw new EnvError(
        `${this.id} vector step: actions must hold ${expected} numbers (${this.num} copies x ${this.actionDim}), got ${show(actions)}`,
      );
    }
    const n = this.num;
    const observations = new Float32Array(n * this.obsDim);
    const rewards = new Float64Array(n);
    const terminated = new Uint8Array(n);
    const truncated = new Uint8Array(n);
    const info: VectorInfo = {
      finalObservation: new Array<Float32Array | null>(n).fill(null),
      finalInfo: new Array<Info | null>(n).fill(null),
      episodes: [],
    };
    const discrete = this.actionSpace.kind === "discrete";
    for (let i = 0; i < n; i++) {
      const env = this.envs[i]!;
      let action: number | Float32Array;
      if (discrete) {
        action = actions[i]!;
      } else {
        const buf = this.actionBufs[i]!;
        for (let k = 0; k < this.actionDim; k++) buf[k] = actions[i * this.actionDim + k]!;
        action = buf;
      }
      const r = env.step(action);
      rewards[i] = r.reward;
      this.returns[i] += r.reward;
      this.lengths[i] += 1;
      if (r.terminated || r.truncated) {
        terminated[i] = r.terminated ? 1 : 0;
        truncated[i] = r.truncated ? 1 : 0;
        info.finalObservation[i] = r.observation;
        info.finalInfo[i] = r.info;
        info.episodes.push({ index: i, return: this.returns[i]!, length: this.lengths[i]!, terminated: r.terminated, truncated: r.truncated });
        this.returns[i] = 0;
        this.lengths[i] = 0;
        const seed = this.autoresetSeed?.(i);
        observations.set(env.reset(seed === undefined ? {} : { seed }).observation, i * this.obsDim);
      } else {
        observations.set(r.observation, i * this.obsDim);
      }
    }
    return { observations, rewards, terminated, truncated, info };
  }

  /**
   * Seeds autoresets explicitly: after an episode of copy i ends, the next one is reset with
   * `seedFor(i)` instead of continuing the copy's generator. A trainer uses this so that an env's
   * state is determined by (episode seed, actions since reset) and can be rebuilt on resume.
   */
  setAutoresetSeed(seedFor: (copy: number) => number): void {
    this.autoresetSeed = seedFor;
  }

  /**
   * Rebuilds each copy's state: reset copy i with `seeds[i]`, then step it through `actions[i]`
   * (flattened, actionDim numbers per step) without ending the episode. Returns the observations.
   */
  replay(seeds: number[], actions: number[][]): Float32Array {
    this.assertOpen();
    const observations = new Float32Array(this.num * this.obsDim);
    const discrete = this.actionSpace.kind === "discrete";
    for (let i = 0; i < this.num; i++) {
      const env = this.envs[i]!;
      let obs = env.reset({ seed: seeds[i]! }).observation;
      const acts = actions[i]!;
      const steps = acts.length / this.actionDim;
      this.returns[i] = 0;
      this.lengths[i] = 0;
      for (let t = 0; t < steps; t++) {
        const buf = this.actionBufs[i]!;
        for (let k = 0; k < this.actionDim; k++) buf[k] = acts[t * this.actionDim + k]!;
        const r = env.step(discrete ? buf[0]! : buf);
        if (r.terminated || r.truncated) throw new EnvError(`${this.id} replay: copy ${i}'s episode ended at replayed step ${t + 1} of ${steps}`);
        this.returns[i] += r.reward;
        this.lengths[i] += 1;
        obs = r.observation;
      }
      observations.set(obs, i * this.obsDim);
    }
    this.seeded = true;
    this.ready = true;
    return observations;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const e of this.envs) e.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new EnvError(`${this.id} vector env was closed`);
  }
}

/** n copies of `makeEnv(id, options, settings)`. */
export async function makeVectorEnv(id: string, n: number, options: Record<string, unknown> = {}, settings: MakeSettings = {}): Promise<VectorEnv> {
  if (!Number.isInteger(n) || n < 1) throw new EnvError(`makeVectorEnv(${id}): n must be a positive integer, got ${show(n)}`);
  const envs: Env[] = [];
  try {
    for (let i = 0; i < n; i++) envs.push(await makeEnv(id, options, settings));
  } catch (err) {
    for (const e of envs) e.close();
    throw err;
  }
  return new VectorEnv(envs);
}
