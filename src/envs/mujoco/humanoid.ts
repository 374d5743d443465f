/**
 * Humanoid-v5 (gymnasium/envs/mujoco/humanoid_v5.py): a 3D biped that should walk forward.
 *
 * Observation (348 by default): qpos[2:] (22), qvel (23), cinert[1:] (13×10), cvel[1:] (13×6),
 * qfrc_actuator[6:] (17), cfrc_ext[1:] (13×6) — v5 drops the world body's rows and the free joint's
 * actuator forces, which are always 0.
 * Reward: forward_weight·x_velocity(centre of mass) + healthy_reward·healthy − ctrl_weight·Σctrl²
 *         − clip(contact_weight·Σcfrc_ext², contact_cost_range); healthy while z_low < qpos[2] < z_high.
 */
import { z } from "zod";
import type { Info, StepResult } from "../types.js";
import { MujocoEnv, mujocoCommonOptions, parseEnvOptions, rangeOption, sumSquares } from "./mujoco-env.js";
import { loadMujoco, type MujocoModule } from "./module.js";

export const humanoidOptionsSchema = z
  .object({
    ...mujocoCommonOptions({ frameSkip: 5, resetNoiseScale: 1e-2 }),
    forwardRewardWeight: z.number().default(1.25).describe("weight of the centre-of-mass x velocity"),
    ctrlCostWeight: z.number().default(0.1).describe("weight of Σ ctrl²"),
    contactCostWeight: z.number().default(5e-7).describe("weight of Σ cfrc_ext²"),
    contactCostRange: rangeOption(-Infinity, 10, "the weighted contact cost is clipped to this range"),
    healthyReward: z.number().default(5).describe("reward per step while healthy"),
    terminateWhenUnhealthy: z.boolean().default(true).describe("terminate when the torso height leaves healthyZRange"),
    healthyZRange: rangeOption(1, 2, "healthy while low < torso z < high"),
    excludeCurrentPositionsFromObservation: z.boolean().default(true).describe("omit the torso x, y from the observation"),
    includeCinertInObservation: z.boolean().default(true).describe("include cinert[1:] (13×10)"),
    includeCvelInObservation: z.boolean().default(true).describe("include cvel[1:] (13×6)"),
    includeQfrcActuatorInObservation: z.boolean().default(true).describe("include qfrc_actuator[6:] (nv−6)"),
    includeCfrcExtInObservation: z.boolean().default(true).describe("include cfrc_ext[1:] (13×6)"),
  })
  .strict();
export type HumanoidOptions = z.input<typeof humanoidOptionsSchema>;
type HumanoidConfig = z.output<typeof humanoidOptionsSchema>;

const ID = "Humanoid-v5";

function observationSize(c: HumanoidConfig, nq: number, nv: number, nbody: number): number {
  const rows = nbody - 1;
  return (
    nq - (c.excludeCurrentPositionsFromObservation ? 2 : 0) +
    nv +
    (c.includeCinertInObservation ? rows * 10 : 0) +
    (c.includeCvelInObservation ? rows * 6 : 0) +
    (c.includeQfrcActuatorInObservation ? nv - 6 : 0) +
    (c.includeCfrcExtInObservation ? rows * 6 : 0)
  );
}

export class HumanoidEnv extends MujocoEnv {
  readonly config: HumanoidConfig;
  private readonly bodyMass: Float64Array;
  private readonly totalMass: number;
  private cinert!: Float64Array;
  private cvel!: Float64Array;
  private qfrcActuator!: Float64Array;
  private cfrcExt!: Float64Array;
  private xipos!: Float64Array;
  private tenLength!: Float64Array;
  private tenVelocity!: Float64Array;

  constructor(mj: MujocoModule, options: HumanoidOptions = {}) {
    const config = parseEnvOptions(ID, humanoidOptionsSchema, options);
    super(mj, {
      id: ID,
      assetFile: "humanoid.xml",
      observationSize: ({ nq, nv, nbody }) => observationSize(config, nq, nv, nbody),
      ...config,
    });
    this.config = config;
    this.bodyMass = Float64Array.from(this.model.body_mass as Float64Array);
    this.totalMass = this.bodyMass.reduce((a, b) => a + b, 0);
  }

  static async create(options: HumanoidOptions = {}): Promise<HumanoidEnv> {
    return new HumanoidEnv(await loadMujoco(), options);
  }

  protected override bindViews(): void {
    super.bindViews();
    const d = this.data;
    this.cinert = d.cinert as Float64Array;
    this.cvel = d.cvel as Float64Array;
    this.qfrcActuator = d.qfrc_actuator as Float64Array;
    this.cfrcExt = d.cfrc_ext as Float64Array;
    this.xipos = d.xipos as Float64Array;
    this.tenLength = d.ten_length as Float64Array;
    this.tenVelocity = d.ten_velocity as Float64Array;
  }

  /** Gymnasium's `mass_center`: mass-weighted mean of the bodies' centres of mass (xipos), x and y. */
  private massCenter(out: Float64Array): void {
    let x = 0;
    let y = 0;
    for (let b = 0; b < this.bodyMass.length; b++) {
      x += this.bodyMass[b]! * this.xipos[3 * b]!;
      y += this.bodyMass[b]! * this.xipos[3 * b + 1]!;
    }
    out[0] = x / this.totalMass;
    out[1] = y / this.totalMass;
  }

  private readonly comBefore = new Float64Array(2);
  private readonly comAfter = new Float64Array(2);

  protected transition(): StepResult {
    const c = this.config;
    this.massCenter(this.comBefore);
    this.simulate(true);
    this.massCenter(this.comAfter);
    const xVelocity = (this.comAfter[0]! - this.comBefore[0]!) / this.dt;
    const yVelocity = (this.comAfter[1]! - this.comBefore[1]!) / this.dt;

    const healthy = this.isHealthy();
    const forwardReward = c.forwardRewardWeight * xVelocity;
    const healthyReward = healthy ? c.healthyReward : 0;
    const ctrlCost = c.ctrlCostWeight * sumSquares(this.ctrl);
    const [minContact, maxContact] = c.contactCostRange;
    const contactCost = Math.min(Math.max(c.contactCostWeight * sumSquares(this.cfrcExt), minContact), maxContact);
    const reward = forwardReward + healthyReward - (ctrlCost + contactCost);

    const info: Info = {
      ...this.stateInfo(),
      x_velocity: xVelocity,
      y_velocity: yVelocity,
      reward_survive: healthyReward,
      reward_forward: forwardReward,
      reward_ctrl: -ctrlCost,
      reward_contact: -contactCost,
    };
    return { observation: this.observe(), reward, terminated: !healthy && c.terminateWhenUnhealthy, truncated: false, info };
  }

  private isHealthy(): boolean {
    const [lo, hi] = this.config.healthyZRange;
    const z = this.qpos[2]!;
    return lo < z && z < hi;
  }

  private stateInfo(): Info {
    const x = this.qpos[0]!;
    const y = this.qpos[1]!;
    return {
      x_position: x,
      y_position: y,
      tendon_length: Float64Array.from(this.tenLength),
      tendon_velocity: Float64Array.from(this.tenVelocity),
      distance_from_origin: Math.hypot(x, y),
    };
  }

  protected override resetInfo(): Info {
    return this.stateInfo();
  }

  protected observe(): Float32Array {
    const c = this.config;
    const obs = new Float32Array(this.observationSpace.shape[0]!);
    let k = 0;
    const put = (src: Float64Array, from: number) => {
      for (let i = from; i < src.length; i++) obs[k++] = src[i]!;
    };
    put(this.qpos, c.excludeCurrentPositionsFromObservation ? 2 : 0);
    put(this.qvel, 0);
    if (c.includeCinertInObservation) put(this.cinert, 10);
    if (c.includeCvelInObservation) put(this.cvel, 6);
    if (c.includeQfrcActuatorInObservation) put(this.qfrcActuator, 6);
    if (c.includeCfrcExtInObservation) put(this.cfrcExt, 6);
    return obs;
  }
}
