/**
 * Hopper-v5 (gymnasium/envs/mujoco/hopper_v5.py): a one-legged planar robot that should hop forward.
 *
 * Observation (11): qpos[1:] (5), qvel (6) clipped to ±10.
 * Reward: forward_weight·x_velocity (qpos[0]) + healthy_reward·healthy − ctrl_weight·Σaction².
 * Healthy: every entry of state_vector()[2:] (qpos[2:], raw qvel) inside healthyStateRange,
 * z = qpos[1] inside healthyZRange, angle = qpos[2] inside healthyAngleRange (all open intervals).
 */
import { z } from "zod";
import { mujocoCommonOptions, parseEnvOptions, rangeOption } from "./mujoco-env.js";
import { loadMujoco, type MujocoModule } from "./module.js";
import { PlanarWalkerEnv } from "./planar.js";

export const hopperOptionsSchema = z
  .object({
    ...mujocoCommonOptions({ frameSkip: 4, resetNoiseScale: 5e-3 }),
    forwardRewardWeight: z.number().default(1).describe("weight of the x velocity"),
    ctrlCostWeight: z.number().default(1e-3).describe("weight of Σ action²"),
    healthyReward: z.number().default(1).describe("reward per step while healthy"),
    terminateWhenUnhealthy: z.boolean().default(true).describe("terminate when the hopper is no longer healthy"),
    healthyStateRange: rangeOption(-100, 100, "every entry of qpos[2:] and qvel must lie in this range"),
    healthyZRange: rangeOption(0.7, Infinity, "healthy while low < torso z (qpos[1]) < high"),
    healthyAngleRange: rangeOption(-0.2, 0.2, "healthy while low < torso angle (qpos[2]) < high"),
    excludeCurrentPositionsFromObservation: z.boolean().default(true).describe("omit the x position from the observation"),
  })
  .strict();
export type HopperOptions = z.input<typeof hopperOptionsSchema>;
type HopperConfig = z.output<typeof hopperOptionsSchema>;

const ID = "Hopper-v5";

export class HopperEnv extends PlanarWalkerEnv<HopperConfig> {
  constructor(mj: MujocoModule, options: HopperOptions = {}) {
    super(mj, { id: ID, assetFile: "hopper.xml", rewardThreshold: 3800 }, parseEnvOptions(ID, hopperOptionsSchema, options));
  }

  static async create(options: HopperOptions = {}): Promise<HopperEnv> {
    return new HopperEnv(await loadMujoco(), options);
  }

  /** Hopper also requires every entry of qpos[2:] and qvel inside healthyStateRange. */
  protected override isHealthy(): boolean {
    const [lo, hi] = this.config.healthyStateRange;
    const inside = (v: number) => lo < v && v < hi;
    for (let i = 2; i < this.nq; i++) if (!inside(this.qpos[i]!)) return false;
    for (let i = 0; i < this.nv; i++) if (!inside(this.qvel[i]!)) return false;
    return super.isHealthy();
  }
}
