import { describe, expect, it } from "vitest";
import { ReplayBuffer, ReplayDataError } from "../../src/replay/buffer.js";
import { FakeVecEnv, OBS_DIM, SPEC, obsValue, rewardValue } from "./helpers.js";

function fill(buf: ReplayBuffer, env: FakeVecEnv, vecSteps: number): void {
  for (let s = 0; s < vecSteps; s++) buf.add(env.step());
}

/** Check every stored transition against the generator, and the episode table against the ring. */
function checkStore(buf: ReplayBuffer, env: FakeVecEnv): void {
  const st = buf.store;
  const next = new Float32Array(OBS_DIM);
  const lengths = new Map<number, number>();
  for (let i = 0; i < buf.size; i++) {
    const e = st.episodeOf(i);
    const t = st.stepOf(i);
    const info = env.episodes.get(e)!;
    for (let k = 0; k < OBS_DIM; k++) expect(st.obs[i * st.stride + k]).toBe(obsValue(e, t, k));
    st.copyNextObs(i, next, 0);
    for (let k = 0; k < OBS_DIM; k++) expect(next[k]).toBe(obsValue(e, t + 1, k));
    expect(st.rewardOf(i)).toBe(rewardValue(e, t));
    const last = t + 1 === info.length;
    expect(st.terminated(i)).toBe(last && info.terminated);
    expect(st.truncated(i)).toBe(last && !info.terminated);
    const nx = st.next(i);
    if (nx >= 0) {
      expect(st.episodeOf(nx)).toBe(e);
      expect(st.stepOf(nx)).toBe(t + 1);
    }
    lengths.set(e, (lengths.get(e) ?? 0) + 1);
  }
  const ep = st.episodes;
  expect(ep.count).toBe(lengths.size);
  ep.forEach((s) => expect(ep.length[s]).toBe(lengths.get(ep.id[s]!)));
  // One spare row per stored episode: its final or latest next observation.
  expect(st.pool.inUse).toBe(lengths.size);
}

describe("TransitionStore via ReplayBuffer.add", () => {
  it("stores interleaved episodes with next observations by reference", () => {
    const env = new FakeVecEnv(4, 1);
    const buf = new ReplayBuffer(SPEC, { capacity: 1000, sampler: "uniform" });
    fill(buf, env, 100);
    expect(buf.size).toBe(400);
    checkStore(buf, env);
  });

  it("wraps around the ring and keeps episodes, links and spare rows consistent", () => {
    const env = new FakeVecEnv(3, 2);
    const buf = new ReplayBuffer(SPEC, { capacity: 50, sampler: "per" });
    for (let r = 0; r < 40; r++) {
      fill(buf, env, 7);
      checkStore(buf, env);
    }
    expect(buf.size).toBe(50);
    expect(buf.added).toBe(40 * 7 * 3);
    // Spare rows are recycled, not leaked.
    expect(buf.store.pool.highWater).toBeLessThan(60);
  });

  it("works with capacity 1 and an episode longer than the ring", () => {
    const env = new FakeVecEnv(1, 3, 40);
    const buf = new ReplayBuffer(SPEC, { capacity: 1, sampler: "reaper" });
    for (let s = 0; s < 30; s++) {
      buf.add(env.step());
      checkStore(buf, env);
    }
  });

  it("refuses broken episode continuity and leaves the buffer unchanged", () => {
    const env = new FakeVecEnv(2, 4, 30);
    const buf = new ReplayBuffer(SPEC, { capacity: 100, sampler: "per" });
    fill(buf, env, 3);
    const size = buf.size;
    const b = env.step();
    // Skip a step of episode 0.
    const skipped = { ...b, stepInEpisode: Int32Array.from(b.stepInEpisode, (t) => t + 1) };
    expect(() => buf.add(skipped)).toThrow(ReplayDataError);
    expect(() => buf.add(skipped)).toThrow(/expected step/);
    expect(buf.size).toBe(size);
    const wrongObs = { ...b, obs: b.obs.map((x, i) => (i === 2 ? x + 1 : x)) };
    expect(() => buf.add(wrongObs)).toThrow(/differs from the nextObs/);
    expect(buf.size).toBe(size);
    buf.add(b);
    checkStore(buf, env);
  });

  it("refuses a transition for an episode that already ended", () => {
    const buf = new ReplayBuffer(SPEC, { capacity: 10, sampler: "uniform" });
    const one = (t: number, term: number) => ({
      obs: new Float32Array(OBS_DIM).fill(t),
      nextObs: new Float32Array(OBS_DIM).fill(t + 1),
      action: [0],
      reward: [0],
      terminated: [term],
      truncated: [0],
      episodeId: [5],
      stepInEpisode: [t],
    });
    buf.add(one(0, 0));
    buf.add(one(1, 1));
    expect(() => buf.add(one(2, 0))).toThrow(/already ended/);
  });

  it("validates shapes and values with messages naming the field", () => {
    const buf = new ReplayBuffer(SPEC, { capacity: 10, sampler: "uniform" });
    const b = new FakeVecEnv(2, 5).step();
    expect(() => buf.add({ ...b, obs: b.obs.subarray(1) })).toThrow(/obs has length 7, expected 8/);
    expect(() => buf.add({ ...b, action: [0, 4] })).toThrow(/action\[1\] = 4, expected an integer in \[0, 4\)/);
    expect(() => buf.add({ ...b, episodeId: [-1, 0] })).toThrow(/episodeId\[0\]/);
    expect(buf.size).toBe(0);
  });

  it("stores continuous actions as float vectors", () => {
    const spec = { obsDim: 2, action: { kind: "continuous" as const, dim: 3 }, gamma: 0.99 };
    const buf = new ReplayBuffer(spec, { capacity: 4, sampler: "uniform" });
    buf.add({
      obs: new Float32Array([0, 0, 1, 1]),
      nextObs: new Float32Array([1, 1, 2, 2]),
      action: new Float32Array([0.1, -0.2, 0.3, 0.4, 0.5, -0.6]),
      reward: [1, 2],
      terminated: [0, 0],
      truncated: [0, 0],
      episodeId: [0, 1],
      stepInEpisode: [0, 0],
    });
    expect(Array.from(buf.store.actionVec!.subarray(0, 6))).toEqual(Array.from(new Float32Array([0.1, -0.2, 0.3, 0.4, 0.5, -0.6])));
  });
});
