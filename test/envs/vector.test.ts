import { describe, expect, it } from "vitest";
import { EnvError } from "../../src/core/errors.js";
import { Rng } from "../../src/core/rng.js";
import { makeEnv, makeVectorEnv } from "../../src/envs/index.js";

describe("makeVectorEnv (SAME_STEP autoreset)", () => {
  it("reset seeds copy i with seed + i, like n single envs", async () => {
    const vec = await makeVectorEnv("LunarLander-v3", 3);
    const { observations } = vec.reset({ seed: 10 });
    expect(observations).toBeInstanceOf(Float32Array);
    expect(observations.length).toBe(3 * 8);
    for (let i = 0; i < 3; i++) {
      const single = await makeEnv("LunarLander-v3");
      expect(observations.subarray(i * 8, i * 8 + 8)).toEqual(single.reset({ seed: 10 + i }).observation);
      single.close();
    }
    vec.close();
  });

  it("a finished copy returns the next episode's first observation and reports the final one", async () => {
    const n = 3;
    const vec = await makeVectorEnv("LunarLander-v3", n);
    const singles = await Promise.all(Array.from({ length: n }, () => makeEnv("LunarLander-v3")));
    vec.reset({ seed: 5 });
    singles.forEach((e, i) => e.reset({ seed: 5 + i }));
    const rng = new Rng(3);
    const returns = new Float64Array(n);
    const lengths = new Int32Array(n);
    let finished = 0;
    for (let t = 0; t < 400 && finished < 4; t++) {
      const actions = Int32Array.from({ length: n }, () => rng.integers(0, 4));
      const r = vec.step(actions);
      expect(r.observations.length).toBe(n * 8);
      expect(r.rewards).toBeInstanceOf(Float64Array);
      expect(r.terminated).toBeInstanceOf(Uint8Array);
      for (let i = 0; i < n; i++) {
        const s = singles[i]!.step(actions[i]!);
        returns[i] += s.reward;
        lengths[i] += 1;
        expect(r.rewards[i]).toBe(s.reward);
        expect(r.terminated[i]).toBe(s.terminated ? 1 : 0);
        if (s.terminated || s.truncated) {
          finished++;
          expect(r.info.finalObservation[i]).toEqual(s.observation);
          expect(r.info.finalInfo[i]).toEqual(s.info);
          const ep = r.info.episodes.find((e) => e.index === i)!;
          expect(ep.length).toBe(lengths[i]);
          expect(ep.return).toBeCloseTo(returns[i]!, 9);
          expect(ep.terminated).toBe(true);
          // The copy continues its own random stream: same as reset() without a seed.
          expect(r.observations.subarray(i * 8, i * 8 + 8)).toEqual(singles[i]!.reset().observation);
          returns[i] = 0;
          lengths[i] = 0;
        } else {
          expect(r.info.finalObservation[i]).toBeNull();
          expect(r.observations.subarray(i * 8, i * 8 + 8)).toEqual(s.observation);
        }
      }
      expect(r.info.episodes.length).toBe(r.terminated.reduce((a, b) => a + b, 0) + r.truncated.reduce((a, b) => a + b, 0));
    }
    expect(finished).toBeGreaterThanOrEqual(4);
    vec.close();
    singles.forEach((e) => e.close());
  });

  it("truncation by the time limit is reported and autoreset too", async () => {
    const vec = await makeVectorEnv("LunarLanderContinuous-v3", 2, {}, { maxEpisodeSteps: 4 });
    expect(vec.actionDim).toBe(2);
    vec.reset({ seed: 0 });
    const zero = new Float32Array(4);
    for (let t = 0; t < 3; t++) expect(vec.step(zero).info.episodes).toEqual([]);
    const r = vec.step(zero);
    expect(Array.from(r.truncated)).toEqual([1, 1]);
    expect(r.info.episodes.map((e) => [e.index, e.length, e.truncated])).toEqual([
      [0, 4, true],
      [1, 4, true],
    ]);
    // The next step belongs to fresh episodes.
    expect(vec.step(zero).info.episodes).toEqual([]);
    vec.close();
  });

  it("validates its inputs", async () => {
    await expect(makeVectorEnv("LunarLander-v3", 0)).rejects.toThrow(/n must be a positive integer/);
    await expect(makeVectorEnv("LunarLander-v3", 2, { gravity: 3 })).rejects.toThrow(/gravity/);
    const vec = await makeVectorEnv("LunarLander-v3", 2);
    expect(() => vec.step([0, 0])).toThrow(/before reset/);
    vec.reset({ seed: 1 });
    expect(() => vec.step([0])).toThrow(/must hold 2 numbers/);
    expect(() => vec.step([0, 7])).toThrow(EnvError);
    expect(() => vec.reset({ seed: -3 })).toThrow(/seed/);
    vec.close();
    expect(() => vec.reset()).toThrow(/closed/);
  });

  it("copies differ even when reset without a seed", async () => {
    const vec = await makeVectorEnv("LunarLander-v3", 2);
    const { observations } = vec.reset();
    expect(observations.subarray(0, 8)).not.toEqual(observations.subarray(8, 16));
    vec.close();
  });

  it("setAutoresetSeed seeds the next episode; replay rebuilds a copy's state exactly", async () => {
    const vec = await makeVectorEnv("LunarLander-v3", 2);
    vec.setAutoresetSeed((copy) => 100 + copy);
    vec.reset({ seed: 0 });
    const probe = await makeEnv("LunarLander-v3");
    const rng = new Rng(9);
    let ended = false;
    const history: number[][] = [[], []];
    for (let t = 0; t < 500 && !ended; t++) {
      const actions = [rng.integers(0, 4), rng.integers(0, 4)];
      const r = vec.step(actions);
      for (let i = 0; i < 2; i++) history[i]!.push(actions[i]!);
      for (let i = 0; i < 2; i++) {
        if (r.info.finalObservation[i]) {
          ended = true;
          expect(r.observations.subarray(i * 8, i * 8 + 8)).toEqual(probe.reset({ seed: 100 + i }).observation);
        }
      }
    }
    expect(ended).toBe(true);
    probe.close();
    vec.close();

    // Replay: a fresh vector env rebuilt from (seed, actions) continues exactly like the live one.
    const live = await makeVectorEnv("LunarLander-v3", 2);
    live.reset({ seed: 40 });
    const acts: number[][] = [[], []];
    for (let t = 0; t < 15; t++) {
      const a = [t % 4, (t * 3) % 4];
      live.step(a);
      acts[0]!.push(a[0]!);
      acts[1]!.push(a[1]!);
    }
    const rebuilt = await makeVectorEnv("LunarLander-v3", 2);
    const obs = rebuilt.replay([40, 41], acts);
    const a = live.step([2, 1]);
    const b = rebuilt.step([2, 1]);
    expect(b.observations).toEqual(a.observations);
    expect(b.rewards).toEqual(a.rewards);
    expect(obs.length).toBe(16);
    live.close();
    rebuilt.close();
  });
});
