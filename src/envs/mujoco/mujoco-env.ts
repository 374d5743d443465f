/**
 * The base of the MuJoCo environments, mirroring Gymnasium's `MujocoEnv` (gymnasium/envs/mujoco/mujoco_env.py):
 * an MJCF model, `frameSkip` calls of `mj_step` per env step, the action space from the actuators'
 * `ctrlrange`, and resets that draw their noise from numpy's PCG64 stream so that seeds give Gymnasium's
 * initial states exactly.
 *
 * Model and data arrays are read through Float64Array views onto the wasm heap. The heap can grow
 * (another model compiled in the same process), which detaches every view; `step`/`reset` re-acquire
 * them when that has happened.
 *
 * Actions: Gymnasium does not clip actions; MuJoCo clamps the applied control to `ctrlrange` internally
 * while `data.ctrl` (and so the control cost) keeps the raw value. Here an action outside the action
 * space is an error by default (it almost always means a policy forgot to squash or scale its output);
 * with `clipActions: true` it is clipped to the space before it is written to `data.ctrl`, so the
 * control cost sees the clipped value.
 */
import type { MjData, MjModel } from "@mujoco/mujoco";
import { z } from "zod";
import { ConfigError, EnvError, show } from "../../core/errors.js";
import { NumpyGenerator } from "../../core/numpy-random.js";
import { box, type Box } from "../spaces.js";
import type { Env, Info, ResetOptions, ResetResult, StepResult } from "../types.js";
import { compileAsset, type MujocoModule } from "./module.js";

/** The options every MuJoCo env accepts (Gymnasium's constructor arguments, camelCased), with that env's defaults. */
export function mujocoCommonOptions(defaults: { frameSkip: number; resetNoiseScale: number }) {
  return {
    frameSkip: z.number().int().min(1).default(defaults.frameSkip).describe("MuJoCo steps per env step (Gymnasium's frame_skip)"),
    resetNoiseScale: z.number().min(0).default(defaults.resetNoiseScale).describe("scale of the reset noise on qpos/qvel (Gymnasium's reset_noise_scale)"),
    clipActions: z.boolean().default(false).describe("clip actions to the action space instead of rejecting out-of-range values with an EnvError"),
  };
}

/** A number that may also be ±Infinity (open ends of Gymnasium's ranges; zod's number() rejects infinities). */
export const extendedNumber = z.union([z.number(), z.literal([Infinity, -Infinity])]);

/** An open interval (low, high) with low < high, e.g. Gymnasium's `healthy_z_range`. */
export function rangeOption(low: number, high: number, doc: string) {
  return z
    .tuple([extendedNumber, extendedNumber])
    .refine(([lo, hi]) => lo < hi, { message: "expected [low, high] with low < high" })
    .default([low, high])
    .describe(doc);
}

/** Parses env options with a zod schema, turning failures into a ConfigError that names the env and key. */
export function parseEnvOptions<S extends z.ZodType>(envId: string, schema: S, options: unknown): z.output<S> {
  const result = schema.safeParse(options ?? {});
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join(".") || "(options)"}: ${i.message}`).join("; ");
    throw new ConfigError(`invalid options for ${envId}: ${issues}`);
  }
  return result.data;
}

export interface MujocoEnvSetup {
  id: string;
  /** MJCF file in `src/envs/mujoco/assets/`. */
  assetFile: string;
  frameSkip: number;
  resetNoiseScale: number;
  clipActions: boolean;
  /** Observation length given the compiled model's sizes. */
  observationSize(sizes: { nq: number; nv: number; nbody: number }): number;
  rewardThreshold?: number;
}

type Phase = "needs-reset" | "running" | "ended" | "closed";

export abstract class MujocoEnv implements Env<Float32Array> {
  readonly id: string;
  readonly observationSpace: Box;
  readonly actionSpace: Box;
  readonly rewardThreshold?: number;
  readonly frameSkip: number;
  /** Seconds per env step: `timestep * frameSkip`. */
  readonly dt: number;
  readonly nq: number;
  readonly nv: number;
  readonly nu: number;

  protected readonly mj: MujocoModule;
  protected readonly model: MjModel;
  protected readonly data: MjData;
  protected readonly resetNoiseScale: number;
  protected readonly clipActions: boolean;
  /** `model.qpos0` and zeros: the state Gymnasium's reset noise is added to. */
  protected readonly initQpos: Float64Array;
  protected readonly initQvel: Float64Array;

  // Live views onto the wasm heap (see the module comment), bound on first use by `ensureViews`
  // (not in the constructor: subclass field definitions would overwrite what it set).
  protected qpos!: Float64Array;
  protected qvel!: Float64Array;
  protected ctrl!: Float64Array;

  private rng: NumpyGenerator | undefined;
  private phase: Phase = "needs-reset";

  protected constructor(mj: MujocoModule, setup: MujocoEnvSetup) {
    this.id = setup.id;
    this.mj = mj;
    this.model = compileAsset(mj, setup.assetFile);
    try {
      this.data = new mj.MjData(this.model);
    } catch (e) {
      this.model.delete();
      throw e;
    }
    this.frameSkip = setup.frameSkip;
    this.resetNoiseScale = setup.resetNoiseScale;
    this.clipActions = setup.clipActions;
    this.rewardThreshold = setup.rewardThreshold;
    this.nq = this.model.nq;
    this.nv = this.model.nv;
    this.nu = this.model.nu;
    const opt = this.model.opt;
    this.dt = opt.timestep * this.frameSkip;
    opt.delete();
    this.initQpos = Float64Array.from(this.model.qpos0 as Float64Array);
    this.initQvel = new Float64Array(this.nv);
    const range = this.model.actuator_ctrlrange as Float64Array;
    const low = new Float32Array(this.nu);
    const high = new Float32Array(this.nu);
    for (let i = 0; i < this.nu; i++) {
      low[i] = range[2 * i]!;
      high[i] = range[2 * i + 1]!;
    }
    this.actionSpace = box(low, high, [this.nu]);
    this.observationSpace = box(-Infinity, Infinity, [setup.observationSize({ nq: this.nq, nv: this.nv, nbody: this.model.nbody })]);
  }

  /** Re-acquires the heap views; subclasses holding more views override this and call `super.bindViews()`. */
  protected bindViews(): void {
    this.qpos = this.data.qpos as Float64Array;
    this.qvel = this.data.qvel as Float64Array;
    this.ctrl = this.data.ctrl as Float64Array;
  }

  /** A grown heap detaches every view at once (their length drops to 0). */
  private ensureViews(): void {
    if (this.qpos === undefined || this.qpos.length === 0) this.bindViews();
  }

  reset(opts: ResetOptions = {}): ResetResult {
    this.assertOpen("reset");
    if (opts.seed !== undefined) {
      if (!Number.isSafeInteger(opts.seed) || opts.seed < 0) {
        throw new EnvError(`${this.id}.reset: seed must be a non-negative integer, got ${show(opts.seed)}`);
      }
      this.rng = NumpyGenerator.fromSeed(opts.seed);
    } else if (!this.rng) {
      // Gymnasium would seed from OS entropy here; qttdm stays reproducible and uses seed 0.
      this.rng = NumpyGenerator.fromSeed(0);
    }
    this.ensureViews();
    this.mj.mj_resetData(this.model, this.data);
    this.resetModel(this.rng);
    this.phase = "running";
    return { observation: this.observe(), info: this.resetInfo() };
  }

  /**
   * Gymnasium's `reset_model` for most envs: qpos noise drawn first, then qvel noise, both
   * `uniform(-scale, scale)`, from the same generator.
   */
  protected resetModel(rng: NumpyGenerator): void {
    const s = this.resetNoiseScale;
    const qpos = rng.uniformArray(-s, s, this.nq);
    for (let i = 0; i < this.nq; i++) qpos[i]! += this.initQpos[i]!;
    const qvel = rng.uniformArray(-s, s, this.nv);
    for (let i = 0; i < this.nv; i++) qvel[i]! += this.initQvel[i]!;
    this.setState(qpos, qvel);
  }

  /** Gymnasium's `set_state`: write qpos/qvel, then `mj_forward` (no `mj_rnePostConstraint`, as in Gymnasium). */
  protected setState(qpos: Float64Array, qvel: Float64Array): void {
    this.qpos.set(qpos);
    this.qvel.set(qvel);
    this.mj.mj_forward(this.model, this.data);
  }

  step(action: Float32Array): StepResult {
    this.assertOpen("step");
    if (this.phase === "needs-reset") throw new EnvError(`${this.id}.step called before reset()`);
    if (this.phase === "ended") throw new EnvError(`${this.id}.step called after the episode terminated; call reset() first`);
    this.ensureViews();
    this.writeAction(action);
    const result = this.transition();
    if (result.terminated) this.phase = "ended";
    return result;
  }

  /** Validates the action and writes it (float32 → float64) into `data.ctrl`. */
  private writeAction(action: Float32Array): void {
    if (!(action instanceof Float32Array) || action.length !== this.nu) {
      throw new EnvError(`${this.id}.step: action must be a Float32Array of length ${this.nu} (action space shape [${this.nu}]), got ${show(action)}`);
    }
    const { low, high } = this.actionSpace;
    const ctrl = this.ctrl;
    for (let i = 0; i < this.nu; i++) {
      let a = action[i]!;
      if (!Number.isFinite(a)) {
        throw new EnvError(`${this.id}.step: action[${i}] is ${a}; actions must be finite`);
      }
      if (a < low[i]! || a > high[i]!) {
        if (!this.clipActions) {
          throw new EnvError(
            `${this.id}.step: action[${i}] = ${a} is outside the action space [${low[i]}, ${high[i]}]; ` +
              `scale the policy output or create the env with clipActions: true`,
          );
        }
        a = a < low[i]! ? low[i]! : high[i]!;
      }
      ctrl[i] = a;
    }
  }

  /** Gymnasium's `do_simulation` / `_step_mujoco_simulation`: `frameSkip` calls of `mj_step`. */
  protected simulate(computeConstraintForces: boolean): void {
    const mj = this.mj;
    for (let i = 0; i < this.frameSkip; i++) mj.mj_step(this.model, this.data);
    // cfrc_ext (and cacc, cfrc_int) are only filled by this call; Gymnasium makes it after every
    // step, but it changes nothing else, so envs whose observation and reward ignore it skip it.
    if (computeConstraintForces) mj.mj_rnePostConstraint(this.model, this.data);
  }

  /** `simulate(false)` for the planar runners: the root's x after the step and its mean x velocity over it. */
  protected simulateAlongX(): { x: number; xVelocity: number } {
    const xBefore = this.qpos[0]!;
    this.simulate(false);
    const x = this.qpos[0]!;
    return { x, xVelocity: (x - xBefore) / this.dt };
  }

  /** Simulates one env step (the action is already in `data.ctrl`) and evaluates it. */
  protected abstract transition(): StepResult;

  /** The observation of the current state (Gymnasium's `_get_obs`), as float32. */
  protected abstract observe(): Float32Array;

  protected resetInfo(): Info {
    return {};
  }

  /** Bytes of the wasm heap (for leak checks: it only grows, and only when the allocator runs out). */
  wasmHeapBytes(): number {
    this.assertOpen("wasmHeapBytes");
    this.ensureViews();
    return this.qpos.buffer.byteLength;
  }

  /** qpos followed by qvel as float64 (Gymnasium's `state_vector()`), a copy. */
  stateVector(): Float64Array {
    this.assertOpen("stateVector");
    this.ensureViews();
    const out = new Float64Array(this.nq + this.nv);
    out.set(this.qpos);
    out.set(this.qvel, this.nq);
    return out;
  }

  close(): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    this.data.delete();
    this.model.delete();
  }

  private assertOpen(what: string): void {
    if (this.phase === "closed") throw new EnvError(`${this.id}.${what} called after close()`);
  }
}

/** Sum of squares of a Float64Array (control and contact costs). */
export function sumSquares(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return s;
}
