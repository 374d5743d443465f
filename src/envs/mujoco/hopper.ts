/**
 * Hopper-v5 (gymnasium/envs/mujoco/hopper_v5.py): a one-legged planar robot that should hop forward.
 *
 * Observation (11): qpos[1:] (5), qvel (6) clipped to ±10.
 * Reward: forward_weight·x_velocity (qpos[0]) + healthy_reward·healthy − ctrl_weight·Σaction².
 * Healthy: every entry of state_vector()[2:] (qpos[2:], raw qvel) inside healthyStateRange,
 * z = qpos[1] inside healthyZRange, angle = qpos[2] inside healthyAngleRange (all open intervals).
 */
import { z } from "zod";
import type { Info, StepResult } from "../types.js";
import { MujocoEnv, mujocoCommonOptions, parseEnvOptions, rangeOption, sumSquares } from "./mujoco-env.js";
import { loadMujoco, type MujocoModule } from "./module.js";
import { planarObservation } from "./planar.js";

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

export class HopperEnv extends MujocoEnv {
  readonly config: HopperConfig;

  constructor(mj: MujocoModule, options: HopperOptions = {}) {
    const config = parseEnvOptions(ID, hopperOptionsSchema, options);
    super(mj, {
      id: ID,
      assetFile: "hopper.xml",
      observationSize: ({ nq, nv }) => nq + nv - (config.excludeCurrentPositionsFromObservation ? 1 : 0),
      rewardThreshold: 3800,
      ...config,
    });
    this.config = config;
  }

  static async create(options: HopperOptions = {}): Promise<HopperEnv> {
    return new HopperEnv(await loadMujoco(), options);
  }

  private isHealthy(): boolean {
    const c = this.config;
    const [sLo, sHi] = c.healthyStateRange;
    const inState = (v: number) => sLo < v && v < sHi;
    for (let i = 2; i < this.nq; i++) if (!inState(this.qpos[i]!)) return false;
    for (let i = 0; i < this.nv; i++) if (!inState(this.qvel[i]!)) return false;
    const z = this.qpos[1]!;
    const angle = this.qpos[2]!;
    return c.healthyZRange[0] < z && z < c.healthyZRange[1] && c.healthyAngleRange[0] < angle && angle < c.healthyAngleRange[1];
  }

  protected transition(): StepResult {
    const c = this.config;
    const xBefore = this.qpos[0]!;
    this.simulate(false);
    const xAfter = this.qpos[0]!;
    const xVelocity = (xAfter - xBefore) / this.dt;
    const healthy = this.isHealthy();
    const forwardReward = c.forwardRewardWeight * xVelocity;
    const healthyReward = healthy ? c.healthyReward : 0;
    const ctrlCost = c.ctrlCostWeight * sumSquares(this.ctrl);
    const info: Info = {
      reward_forward: forwardReward,
      reward_ctrl: -ctrlCost,
      reward_survive: healthyReward,
      x_position: xAfter,
      z_distance_from_origin: this.qpos[1]! - this.initQpos[1]!,
      x_velocity: xVelocity,
    };
    return {
      observation: this.observe(),
      reward: forwardReward + healthyReward - ctrlCost,
      terminated: !healthy && c.terminateWhenUnhealthy,
      truncated: false,
      info,
    };
  }

  protected override resetInfo(): Info {
    return { x_position: this.qpos[0]!, z_distance_from_origin: this.qpos[1]! - this.initQpos[1]! };
  }

  protected observe(): Float32Array {
    return planarObservation(this.qpos, this.qvel, this.config.excludeCurrentPositionsFromObservation, 10);
  }
}
