// Every registered env, as Gymnasium's check_env checks one: the API's shapes and types, and the
// same trajectory for the same seed and actions (in a fresh env and after reseeding a used one).
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import { flatSize, listEnvs, makeEnv, sampleSpace, type Env } from "../../src/envs/index.js";

const STEPS = 60;

interface Trajectory {
  first: number[];
  steps: { observation: number[]; reward: number; terminated: boolean; truncated: boolean }[];
}

/** Reset with `seed`, then STEPS random actions drawn from Rng(seed), resetting where an episode ends. */
function trajectory(env: Env, seed: number): Trajectory {
  const rng = new Rng(seed);
  const first = Array.from(env.reset({ seed }).observation);
  const steps: Trajectory["steps"] = [];
  for (let t = 0; t < STEPS; t++) {
    const r = env.step(sampleSpace(env.actionSpace, rng));
    steps.push({ observation: Array.from(r.observation), reward: r.reward, terminated: r.terminated, truncated: r.truncated });
    if (r.terminated || r.truncated) env.reset();
  }
  return { first, steps };
}

describe("every registered env", () => {
  for (const spec of listEnvs()) {
    it(`${spec.id}: spaces, step results and determinism for a seed`, async () => {
      const env = await makeEnv(spec.id);
      const again = await makeEnv(spec.id);
      try {
        expect(env.id).toBe(spec.id);
        expect(env.observationSpace.kind).toBe("box");
        const obsSize = flatSize(env.observationSpace);
        const a = trajectory(env, 7);
        expect(a.first).toHaveLength(obsSize);
        for (const s of a.steps) {
          expect(s.observation).toHaveLength(obsSize);
          expect(s.observation.every(Number.isFinite)).toBe(true);
          expect(Number.isFinite(s.reward)).toBe(true);
          expect(typeof s.terminated).toBe("boolean");
          expect(typeof s.truncated).toBe("boolean");
        }
        expect(trajectory(again, 7)).toEqual(a);
        // Reseeding a used env starts the same trajectory again; another seed starts elsewhere.
        expect(trajectory(env, 7)).toEqual(a);
        expect(trajectory(env, 8).first).not.toEqual(a.first);
      } finally {
        env.close();
        again.close();
      }
    });
  }
});
