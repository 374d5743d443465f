/**
 * InvertedPendulum-v5 (gymnasium/envs/mujoco/inverted_pendulum_v5.py): keep a pole upright on a cart.
 *
 * Observation (4): qpos (cart x, pole angle), qvel. Reward 1 per step while |angle| ≤ 0.2 and the
 * state is finite; the episode terminates (with reward 0) as soon as that fails.
 */
import { z } from "zod";
import type { StepResult } from "../types.js";
import { MujocoEnv, mujocoCommonOptions, parseEnvOptions } from "./mujoco-env.js";
import { loadMujoco, type MujocoModule } from "./module.js";
import { planarObservation } from "./planar.js";

export const invertedPendulumOptionsSchema = z.object({ ...mujocoCommonOptions({ frameSkip: 2, resetNoiseScale: 0.01 }) }).strict();
export type InvertedPendulumOptions = z.input<typeof invertedPendulumOptionsSchema>;

const ID = "InvertedPendulum-v5";

export class InvertedPendulumEnv extends MujocoEnv {
  constructor(mj: MujocoModule, options: InvertedPendulumOptions = {}) {
    const config = parseEnvOptions(ID, invertedPendulumOptionsSchema, options);
    super(mj, { id: ID, assetFile: "inverted_pendulum.xml", observationSize: ({ nq, nv }) => nq + nv, rewardThreshold: 950, ...config });
  }

  static async create(options: InvertedPendulumOptions = {}): Promise<InvertedPendulumEnv> {
    return new InvertedPendulumEnv(await loadMujoco(), options);
  }

  protected transition(): StepResult {
    this.simulate(false);
    let finite = true;
    for (let i = 0; i < this.nq; i++) finite &&= Number.isFinite(this.qpos[i]!);
    for (let i = 0; i < this.nv; i++) finite &&= Number.isFinite(this.qvel[i]!);
    const terminated = !finite || Math.abs(this.qpos[1]!) > 0.2;
    const reward = terminated ? 0 : 1;
    return { observation: this.observe(), reward, terminated, truncated: false, info: { reward_survive: reward } };
  }

  protected observe(): Float32Array {
    return planarObservation(this.qpos, this.qvel, false, Infinity);
  }
}
