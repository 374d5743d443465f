/**
 * Walker2d-v5 (gymnasium/envs/mujoco/walker2d_v5.py, model walker2d_v5.xml with both feet at friction 1.9):
 * a two-legged planar robot that should walk forward.
 *
 * Observation (17): qpos[1:] (8), qvel (9) clipped to ±10.
 * Reward: forward_weight·x_velocity (qpos[0]) + healthy_reward·healthy − ctrl_weight·Σaction².
 * Healthy: z = qpos[1] inside healthyZRange and angle = qpos[2] inside healthyAngleRange (open intervals).
 */
import { z } from "zod";
import { mujocoCommonOptions, parseEnvOptions, rangeOption } from "./mujoco-env.js";
import { loadMujoco, type MujocoModule } from "./module.js";
import { PlanarWalkerEnv } from "./planar.js";

export const walker2dOptionsSchema = z
  .object({
    ...mujocoCommonOptions({ frameSkip: 4, resetNoiseScale: 5e-3 }),
    forwardRewardWeight: z.number().default(1).describe("weight of the x velocity"),
    ctrlCostWeight: z.number().default(1e-3).describe("weight of Σ action²"),
    healthyReward: z.number().default(1).describe("reward per step while healthy"),
    terminateWhenUnhealthy: z.boolean().default(true).describe("terminate when the walker is no longer healthy"),
    healthyZRange: rangeOption(0.8, 2, "healthy while low < torso z (qpos[1]) < high"),
    healthyAngleRange: rangeOption(-1, 1, "healthy while low < torso angle (qpos[2]) < high"),
    excludeCurrentPositionsFromObservation: z.boolean().default(true).describe("omit the x position from the observation"),
  })
  .strict();
export type Walker2dOptions = z.input<typeof walker2dOptionsSchema>;
type Walker2dConfig = z.output<typeof walker2dOptionsSchema>;

const ID = "Walker2d-v5";

export class Walker2dEnv extends PlanarWalkerEnv<Walker2dConfig> {
  constructor(mj: MujocoModule, options: Walker2dOptions = {}) {
    super(mj, { id: ID, assetFile: "walker2d_v5.xml" }, parseEnvOptions(ID, walker2dOptionsSchema, options));
  }

  static async create(options: Walker2dOptions = {}): Promise<Walker2dEnv> {
    return new Walker2dEnv(await loadMujoco(), options);
  }
}
