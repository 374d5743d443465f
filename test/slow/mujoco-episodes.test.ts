import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import { envBenchmark } from "../../src/bench/env.js";
import "../../src/envs/mujoco/index.js";
import { makeEnv } from "../../src/envs/make.js";
import { sampleSpace } from "../../src/envs/spaces.js";

// Full-length episodes (TimeLimit 1000) with random actions and no early termination: the
// simulation must stay finite, and observations must stay the declared size.
describe.each(["Humanoid-v5", "Hopper-v5", "Walker2d-v5", "HalfCheetah-v5"])("%s over full episodes", (id) => {
  it("stays finite for 2 × 1000 random-action steps", async () => {
    const options = id === "HalfCheetah-v5" ? {} : { terminateWhenUnhealthy: false };
    const env = await makeEnv(id, options);
    const rng = new Rng(11);
    try {
      for (let ep = 0; ep < 2; ep++) {
        env.reset({ seed: ep });
        let n = 0;
        for (;;) {
          const r = env.step(sampleSpace(env.actionSpace, rng) as Float32Array);
          n++;
          expect(r.observation.every(Number.isFinite)).toBe(true);
          expect(Number.isFinite(r.reward)).toBe(true);
          if (r.terminated || r.truncated) {
            expect(r.truncated).toBe(true);
            break;
          }
        }
        expect(n).toBe(1000);
      }
    } finally {
      env.close();
    }
  });
});

describe("Humanoid-v5 throughput", () => {
  it("reaches 1,100 env steps/s with random actions (machine-dependent)", async () => {
    const figures = await envBenchmark.run({ quick: true, options: {}, log: (line) => console.log(line) });
    expect(figures.humanoid_steps_per_s).toBeGreaterThan(1100);
    expect(figures.humanoid_reset_alloc_top_drift_bytes).toBe(0);
  });
});
