import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { heuristic, makeEnv, rollout } from "../../src/envs/index.js";

describe("rollout", () => {
  it("heuristic episodes equal a hand-written loop with seeds seed + j", async () => {
    const res = await rollout({ env: "LunarLander-v3", policy: "heuristic", episodes: 2, seed: 3 });
    const env = await makeEnv("LunarLander-v3");
    for (let j = 0; j < 2; j++) {
      let obs = env.reset({ seed: 3 + j }).observation;
      let total = 0;
      let steps = 0;
      for (;;) {
        const r = env.step(heuristic(obs, false));
        total += r.reward;
        steps++;
        obs = r.observation;
        if (r.terminated || r.truncated) break;
      }
      expect(res.returns[j]).toBe(total);
      expect(res.lengths[j]).toBe(steps);
    }
    env.close();
    expect(res.meanReturn).toBeCloseTo((res.returns[0]! + res.returns[1]!) / 2, 12);
    expect(res.meanReturn).toBeGreaterThan(200);
  });

  it("random policy is deterministic for a seed and scores far below the heuristic", async () => {
    const a = await rollout({ env: "LunarLanderContinuous-v3", policy: "random", episodes: 3, seed: 1 });
    const b = await rollout({ env: "LunarLanderContinuous-v3", policy: "random", episodes: 3, seed: 1 });
    expect(a.returns).toEqual(b.returns);
    expect(a.meanReturn).toBeLessThan(0);
    const c = await rollout({ env: "LunarLander-v3", policy: "random", episodes: 3, seed: 2, settings: { maxEpisodeSteps: 10 } });
    expect(Array.from(c.lengths).every((l) => l <= 10)).toBe(true);
  });

  it("rejects bad arguments", async () => {
    await expect(rollout({ env: "Hopper-v5", policy: "heuristic", episodes: 1, seed: 0 })).rejects.toThrow(ConfigError);
    await expect(rollout({ env: "LunarLander-v3", policy: "greedy" as never, episodes: 1, seed: 0 })).rejects.toThrow(/policy/);
    await expect(rollout({ env: "LunarLander-v3", policy: "random", episodes: 0, seed: 0 })).rejects.toThrow(/episodes/);
  });
});
