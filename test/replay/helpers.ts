/**
 * A fake vector environment whose transitions are known functions of (episode id, step), so tests
 * can check what the buffer returns without keeping their own copy of the data.
 *   obs(e, t)    = [e, t, (7e + 3t + k) mod 97 for k ≥ 2]
 *   reward(e, t) = (e mod 5) + t / 8 (exact in float32)
 * Each env copy runs episodes of random length 1..maxLen, ending by termination or truncation.
 */
import { Rng } from "../../src/core/rng.js";
import type { TransitionBatch } from "../../src/replay/storage.js";

export const OBS_DIM = 4;

export function obsValue(e: number, t: number, k: number): number {
  return k === 0 ? e : k === 1 ? t : (7 * e + 3 * t + k) % 97;
}

export function rewardValue(e: number, t: number): number {
  return (e % 5) + t / 8;
}

export interface EpisodeInfo {
  length: number;
  terminated: boolean;
}

export class FakeVecEnv {
  readonly episodes = new Map<number, EpisodeInfo>();
  private readonly id: number[] = [];
  private readonly t: number[] = [];
  private nextId = 0;
  private readonly rng: Rng;

  constructor(readonly envs: number, seed: number, readonly maxLen = 12, readonly obsDim = OBS_DIM, readonly numActions = 4) {
    this.rng = new Rng(seed);
    for (let e = 0; e < envs; e++) {
      this.id.push(this.newEpisode());
      this.t.push(0);
    }
  }

  private newEpisode(): number {
    const e = this.nextId++;
    this.episodes.set(e, { length: this.rng.integers(1, this.maxLen + 1), terminated: this.rng.random() < 0.7 });
    return e;
  }

  /** One vector step: a batch with one transition per env copy. */
  step(): TransitionBatch {
    const k = this.envs;
    const d = this.obsDim;
    const b = {
      obs: new Float32Array(k * d),
      nextObs: new Float32Array(k * d),
      action: new Int32Array(k),
      reward: new Float32Array(k),
      terminated: new Uint8Array(k),
      truncated: new Uint8Array(k),
      episodeId: new Int32Array(k),
      stepInEpisode: new Int32Array(k),
    };
    for (let j = 0; j < k; j++) {
      const e = this.id[j]!;
      const t = this.t[j]!;
      const info = this.episodes.get(e)!;
      for (let q = 0; q < d; q++) {
        b.obs[j * d + q] = obsValue(e, t, q);
        b.nextObs[j * d + q] = obsValue(e, t + 1, q);
      }
      b.action[j] = (e + t) % this.numActions;
      b.reward[j] = rewardValue(e, t);
      b.episodeId[j] = e;
      b.stepInEpisode[j] = t;
      const last = t + 1 === info.length;
      if (last) {
        b.terminated[j] = info.terminated ? 1 : 0;
        b.truncated[j] = info.terminated ? 0 : 1;
        this.id[j] = this.newEpisode();
        this.t[j] = 0;
      } else {
        this.t[j] = t + 1;
      }
    }
    return b;
  }
}

export const SPEC = { obsDim: OBS_DIM, action: { kind: "discrete" as const, n: 4 }, gamma: 0.9 };
