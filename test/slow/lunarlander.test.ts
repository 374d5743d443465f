/** Slow LunarLander checks (`npm run test:slow`): statistics over 100 seeds, 10,000 resets. */
import { describe, expect, it } from "vitest";
import { createLunarLander } from "../../src/envs/box2d/lunar-lander.js";
import { loadBox2D, wasmHeapProbe } from "../../src/envs/box2d/loader.js";
import { rollout } from "../../src/envs/rollout.js";

describe("LunarLander-v3 against Gymnasium's statistics", () => {
  // Gymnasium 1.4.0 heuristic mean return over seeds 0..99 (reference README).
  for (const [env, gymMean] of [
    ["LunarLander-v3", 252.83],
    ["LunarLanderContinuous-v3", 280.35],
  ] as const) {
    it(`${env}: heuristic mean return over seeds 0..99 is within 15 of Gymnasium's ${gymMean}`, async () => {
      const res = await rollout({ env, policy: "heuristic", episodes: 100, seed: 0 });
      const landed = res.terminated.reduce((a, b) => a + b, 0);
      console.log(`${env}: heuristic mean return ${res.meanReturn.toFixed(2)} (Gymnasium ${gymMean}), mean length ${res.meanLength.toFixed(1)}, ${landed}/100 terminated`);
      expect(Math.abs(res.meanReturn - gymMean)).toBeLessThan(15);
    });
  }

  it("10,000 resets do not grow the wasm heap", async () => {
    const B = await loadBox2D();
    const env = await createLunarLander("LunarLander-v3", { enableWind: true });
    for (let i = 0; i < 200; i++) env.reset({ seed: i });
    const before = wasmHeapProbe(B);
    for (let i = 0; i < 10_000; i++) {
      env.reset({ seed: i });
      env.step(i % 4);
    }
    expect(wasmHeapProbe(B)).toEqual(before);
    env.close();
  });
});
