import { readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { HalfCheetahEnv, loadMujoco } from "../../src/envs/mujoco/index.js";

// Computed with numpy from the same draws as Gymnasium's HalfCheetah-v5 reset_model
// (test/core/fixtures/numpy-normal.py): qpos = init_qpos + uniform(-0.1, 0.1, nq), then
// qvel = init_qvel + 0.1 * standard_normal(nv); init_qpos and init_qvel are zero for this model.
interface ResetFixture {
  half_cheetah_reset: { seed: number; qpos: number[]; qvel: number[] }[];
}
const ref = JSON.parse(readFileSync(new URL("../core/fixtures/numpy-normal.json", import.meta.url), "utf8")) as ResetFixture;

let env: HalfCheetahEnv;
beforeAll(async () => {
  env = new HalfCheetahEnv(await loadMujoco());
});
afterAll(() => env.close());

it("HalfCheetah-v5 reset qpos and qvel equal numpy's draws for seeds 0..2 (float64-exact)", () => {
  expect(ref.half_cheetah_reset.map((r) => r.seed)).toEqual([0, 1, 2]);
  for (const r of ref.half_cheetah_reset) {
    const { observation } = env.reset({ seed: r.seed });
    const state = env.stateVector();
    expect(Array.from(state.subarray(0, 9))).toEqual(r.qpos);
    expect(Array.from(state.subarray(9))).toEqual(r.qvel);
    // The observation is qpos[1:] then qvel, in float32.
    expect(Array.from(observation.subarray(8))).toEqual(r.qvel.map(Math.fround));
  }
});
