/**
 * HalfCheetah-v5 (gymnasium/envs/mujoco/half_cheetah_v5.py): a planar cat-like robot that should run forward.
 *
 * Observation (17): qpos[1:] (8), qvel (9), unclipped. Never terminates (TimeLimit 1000 only).
 * Reward: forward_weight·x_velocity (qpos[0]) − ctrl_weight·Σaction².
 * Reset: qpos += uniform(−scale, scale), then qvel += scale·standard_normal, both from numpy's stream,
 * so a seed gives Gymnasium's reset state bit for bit.
 */
import { z } from "zod";
import type { NumpyGenerator } from "../../core/numpy-random.js";
import type { Info, StepResult } from "../types.js";
import { MujocoEnv, mujocoCommonOptions, parseEnvOptions, sumSquares } from "./mujoco-env.js";
import { loadMujoco, type MujocoModule } from "./module.js";
import { planarObservation } from "./planar.js";

export const halfCheetahOptionsSchema = z
  .object({
    ...mujocoCommonOptions({ frameSkip: 5, resetNoiseScale: 0.1 }),
    forwardRewardWeight: z.number().default(1).describe("weight of the x velocity"),
    ctrlCostWeight: z.number().default(0.1).describe("weight of Σ action²"),
    excludeCurrentPositionsFromObservation: z.boolean().default(true).describe("omit the x position from the observation"),
  })
  .strict();
export type HalfCheetahOptions = z.input<typeof halfCheetahOptionsSchema>;
type HalfCheetahConfig = z.output<typeof halfCheetahOptionsSchema>;

const ID = "HalfCheetah-v5";

export class HalfCheetahEnv extends MujocoEnv {
  readonly config: HalfCheetahConfig;

  constructor(mj: MujocoModule, options: HalfCheetahOptions = {}) {
    const config = parseEnvOptions(ID, halfCheetahOptionsSchema, options);
    super(mj, {
      id: ID,
      assetFile: "half_cheetah.xml",
      observationSize: ({ nq, nv }) => nq + nv - (config.excludeCurrentPositionsFromObservation ? 1 : 0),
      rewardThreshold: 4800,
      ...config,
    });
    this.config = config;
  }

  static async create(options: HalfCheetahOptions = {}): Promise<HalfCheetahEnv> {
    return new HalfCheetahEnv(await loadMujoco(), options);
  }

  protected override resetModel(rng: NumpyGenerator): void {
    const s = this.resetNoiseScale;
    const qpos = rng.uniformArray(-s, s, this.nq);
    for (let i = 0; i < this.nq; i++) qpos[i]! += this.initQpos[i]!;
    const qvel = new Float64Array(this.nv);
    for (let i = 0; i < this.nv; i++) qvel[i] = this.initQvel[i]! + s * rng.standardNormal();
    this.setState(qpos, qvel);
  }

  protected transition(): StepResult {
    const c = this.config;
    const { x: xAfter, xVelocity } = this.simulateAlongX();
    const forwardReward = c.forwardRewardWeight * xVelocity;
    const ctrlCost = c.ctrlCostWeight * sumSquares(this.ctrl);
    const info: Info = { x_position: xAfter, x_velocity: xVelocity, reward_forward: forwardReward, reward_ctrl: -ctrlCost };
    return { observation: this.observe(), reward: forwardReward - ctrlCost, terminated: false, truncated: false, info };
  }

  protected override resetInfo(): Info {
    return { x_position: this.qpos[0]! };
  }

  protected observe(): Float32Array {
    return planarObservation(this.qpos, this.qvel, this.config.excludeCurrentPositionsFromObservation, Infinity);
  }
}
