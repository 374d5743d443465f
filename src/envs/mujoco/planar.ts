/** Shared pieces of the planar runners (Hopper, Walker2d, HalfCheetah): qpos[0] is the x position. */
import type { Info, StepResult } from "../types.js";
import { MujocoEnv, sumSquares } from "./mujoco-env.js";
import type { MujocoModule } from "./module.js";

/**
 * Their observation: qpos (without qpos[0] when `excludeX`) then qvel, with velocities clipped
 * to ±`velocityClip` (Hopper and Walker2d clip at 10; HalfCheetah does not clip: pass Infinity).
 */
export function planarObservation(qpos: Float64Array, qvel: Float64Array, excludeX: boolean, velocityClip: number): Float32Array {
  const from = excludeX ? 1 : 0;
  const obs = new Float32Array(qpos.length - from + qvel.length);
  let k = 0;
  for (let i = from; i < qpos.length; i++) obs[k++] = qpos[i]!;
  for (let i = 0; i < qvel.length; i++) {
    const v = qvel[i]!;
    obs[k++] = v > velocityClip ? velocityClip : v < -velocityClip ? -velocityClip : v;
  }
  return obs;
}

/** What Hopper and Walker2d configure alike (Gymnasium's arguments, camelCased). */
export interface PlanarWalkerConfig {
  frameSkip: number;
  resetNoiseScale: number;
  clipActions: boolean;
  forwardRewardWeight: number;
  ctrlCostWeight: number;
  healthyReward: number;
  terminateWhenUnhealthy: boolean;
  healthyZRange: [number, number];
  healthyAngleRange: [number, number];
  excludeCurrentPositionsFromObservation: boolean;
}

/**
 * Hopper-v5 and Walker2d-v5 share everything but their model and healthy ranges (Gymnasium repeats
 * the code in both files): reward forward_weight·x_velocity (qpos[0]) + healthy_reward·healthy −
 * ctrl_weight·Σaction², healthy while z = qpos[1] and angle = qpos[2] lie inside their open ranges,
 * observation qpos[1:] and qvel clipped to ±10.
 */
export abstract class PlanarWalkerEnv<C extends PlanarWalkerConfig> extends MujocoEnv {
  protected constructor(mj: MujocoModule, setup: { id: string; assetFile: string; rewardThreshold?: number }, readonly config: C) {
    super(mj, {
      ...setup,
      ...config,
      observationSize: ({ nq, nv }) => nq + nv - (config.excludeCurrentPositionsFromObservation ? 1 : 0),
    });
  }

  protected isHealthy(): boolean {
    const c = this.config;
    const z = this.qpos[1]!;
    const angle = this.qpos[2]!;
    return c.healthyZRange[0] < z && z < c.healthyZRange[1] && c.healthyAngleRange[0] < angle && angle < c.healthyAngleRange[1];
  }

  protected transition(): StepResult {
    const c = this.config;
    const { x: xAfter, xVelocity } = this.simulateAlongX();
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
