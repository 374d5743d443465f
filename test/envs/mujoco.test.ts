import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, EnvError } from "../../src/core/errors.js";
import { Rng } from "../../src/core/rng.js";
import {
  HalfCheetahEnv,
  HopperEnv,
  HumanoidEnv,
  InvertedPendulumEnv,
  loadMujoco,
  type MujocoEnv,
  type MujocoModule,
  Walker2dEnv,
} from "../../src/envs/mujoco/index.js";
import { makeEnv } from "../../src/envs/make.js";
import { envSpec } from "../../src/envs/registry.js";
import { sampleSpace } from "../../src/envs/spaces.js";
import type { StepResult } from "../../src/envs/types.js";

let mj: MujocoModule;
const open: MujocoEnv[] = [];
function track<E extends MujocoEnv>(env: E): E {
  open.push(env);
  return env;
}
beforeAll(async () => {
  mj = await loadMujoco();
});
afterEach(() => {
  for (const env of open.splice(0)) env.close();
});

const ENVS = [
  { id: "Humanoid-v5", make: () => new HumanoidEnv(mj), obs: 348, act: 17, low: -0.4, high: 0.4, dt: 0.015, terms: ["reward_forward", "reward_survive", "reward_ctrl", "reward_contact"] },
  { id: "Hopper-v5", make: () => new HopperEnv(mj), obs: 11, act: 3, low: -1, high: 1, dt: 0.008, terms: ["reward_forward", "reward_survive", "reward_ctrl"] },
  { id: "Walker2d-v5", make: () => new Walker2dEnv(mj), obs: 17, act: 6, low: -1, high: 1, dt: 0.008, terms: ["reward_forward", "reward_survive", "reward_ctrl"] },
  { id: "HalfCheetah-v5", make: () => new HalfCheetahEnv(mj), obs: 17, act: 6, low: -1, high: 1, dt: 0.05, terms: ["reward_forward", "reward_ctrl"] },
  { id: "InvertedPendulum-v5", make: () => new InvertedPendulumEnv(mj), obs: 4, act: 1, low: -3, high: 3, dt: 0.04, terms: ["reward_survive"] },
];

/** Steps with seeded random actions until termination or `limit` steps; resets with `seed` first. */
function rollout(env: MujocoEnv, seed: number, limit: number): { steps: StepResult[]; first: Float32Array } {
  const rng = new Rng(seed);
  const first = env.reset({ seed }).observation;
  const steps: StepResult[] = [];
  while (steps.length < limit) {
    const r = env.step(sampleSpace(env.actionSpace, rng) as Float32Array);
    steps.push(r);
    if (r.terminated) break;
  }
  return { steps, first };
}

describe.each(ENVS)("$id", (spec) => {
  it("has Gymnasium's spaces, dt and registry entry", () => {
    const env = track(spec.make());
    expect(env.id).toBe(spec.id);
    expect(env.observationSpace.shape).toEqual([spec.obs]);
    expect(env.actionSpace.shape).toEqual([spec.act]);
    expect(Array.from(env.actionSpace.low)).toEqual(new Array(spec.act).fill(Math.fround(spec.low)));
    expect(Array.from(env.actionSpace.high)).toEqual(new Array(spec.act).fill(Math.fround(spec.high)));
    expect(env.dt).toBeCloseTo(spec.dt, 12);
    const { observation } = env.reset({ seed: 1 });
    expect(observation).toBeInstanceOf(Float32Array);
    expect(observation.length).toBe(spec.obs);
    const reg = envSpec(spec.id);
    expect(reg.maxEpisodeSteps).toBe(1000);
    expect(reg.rewardThreshold).toBe(env.rewardThreshold);
  });

  it("reports every reward term in info, and they sum to the reward", () => {
    const env = track(spec.make());
    const { steps } = rollout(env, 3, 50);
    for (const s of steps) {
      const parts = spec.terms.map((k) => s.info[k] as number);
      for (const p of parts) expect(typeof p).toBe("number");
      expect(parts.reduce((a, b) => a + b, 0)).toBeCloseTo(s.reward, 10);
      expect(s.observation.length).toBe(spec.obs);
      expect(s.truncated).toBe(false);
    }
  });

  it("is deterministic for a seed, and different seeds give different starts", () => {
    const a = rollout(track(spec.make()), 7, 30);
    const b = rollout(track(spec.make()), 7, 30);
    expect(b.first).toEqual(a.first);
    expect(b.steps.map((s) => [Array.from(s.observation), s.reward, s.terminated])).toEqual(a.steps.map((s) => [Array.from(s.observation), s.reward, s.terminated]));
    const c = rollout(track(spec.make()), 8, 1);
    expect(c.first).not.toEqual(a.first);
  });

  it("rejects actions of the wrong type or length, NaN and out-of-range values", () => {
    const env = track(spec.make());
    expect(() => env.step(new Float32Array(spec.act))).toThrow(/before reset/);
    env.reset({ seed: 0 });
    expect(() => env.step(new Float32Array(spec.act + 1))).toThrow(EnvError);
    expect(() => env.step(new Float32Array(spec.act + 1))).toThrow(new RegExp(`length ${spec.act}`));
    expect(() => env.step(Array(spec.act).fill(0) as unknown as Float32Array)).toThrow(/Float32Array/);
    const nan = new Float32Array(spec.act);
    nan[0] = NaN;
    expect(() => env.step(nan)).toThrow(/action\[0\] is NaN/);
    const big = new Float32Array(spec.act);
    big[spec.act - 1] = spec.high * 1.5;
    expect(() => env.step(big)).toThrow(new RegExp(`action\\[${spec.act - 1}\\] = .* outside the action space`));
    // The bounds themselves (as float32) are inside the space.
    expect(() => env.step(new Float32Array(spec.act).fill(spec.high))).not.toThrow();
  });
});

describe("action clipping", () => {
  it("clipActions: true clips to the space, and the control cost sees the clipped action", () => {
    const env = track(new HopperEnv(mj, { clipActions: true }));
    const ref = track(new HopperEnv(mj));
    env.reset({ seed: 2 });
    ref.reset({ seed: 2 });
    const a = env.step(Float32Array.of(5, -5, 0.5));
    const b = ref.step(Float32Array.of(1, -1, 0.5));
    expect(a.observation).toEqual(b.observation);
    expect(a.info.reward_ctrl).toBeCloseTo(-1e-3 * (1 + 1 + 0.25), 12);
  });
});

describe("Humanoid-v5", () => {
  const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
  const resetFile = resolve(repoRoot, "../shared/reference/mujoco/humanoid_reset_seeds_0_4.json");

  it.skipIf(!existsSync(resetFile))("reset qpos/qvel equal Gymnasium's for seeds 0..4 (float64-exact)", () => {
    const ref = JSON.parse(readFileSync(resetFile, "utf8")) as { seeds: { seed: number; qpos: number[]; qvel: number[] }[] };
    expect(ref.seeds.length).toBe(5);
    const env = track(new HumanoidEnv(mj));
    for (const s of ref.seeds) {
      const { observation, info } = env.reset({ seed: s.seed });
      const state = env.stateVector();
      expect(Array.from(state.subarray(0, 24))).toEqual(s.qpos);
      expect(Array.from(state.subarray(24))).toEqual(s.qvel);
      expect(info.x_position).toBe(s.qpos[0]);
      expect(info.y_position).toBe(s.qpos[1]);
      expect(Array.from(observation.subarray(0, 22))).toEqual(s.qpos.slice(2).map(Math.fround));
      expect(Array.from(observation.subarray(22, 45))).toEqual(s.qvel.map(Math.fround));
    }
  });

  it("observation layout: v5 drops the world body's rows; cfrc_ext is 0 after reset and filled after a step", () => {
    const env = track(new HumanoidEnv(mj));
    const { observation } = env.reset({ seed: 0 });
    // qpos[2:] 22, qvel 23, cinert 130, cvel 78, qfrc_actuator 17, cfrc_ext 78.
    const cinert = observation.subarray(45, 175);
    const cfrc = observation.subarray(270, 348);
    expect(cinert[0]).toBeGreaterThan(0); // the torso's first inertia entry, not the world's zeros
    expect(cfrc.every((v) => v === 0)).toBe(true); // Gymnasium's reset does not call mj_rnePostConstraint
    let contact = 0;
    for (let i = 0; i < 40 && contact === 0; i++) {
      const s = env.step(new Float32Array(17));
      contact = s.info.reward_contact as number;
      if (s.terminated) break;
    }
    expect(contact).toBeLessThan(0);
  });

  it("terminates when the torso leaves healthyZRange, with no healthy reward on that step", () => {
    const env = track(new HumanoidEnv(mj));
    const { steps } = rollout(env, 0, 300);
    const last = steps.at(-1)!;
    expect(last.terminated).toBe(true);
    expect(last.info.reward_survive).toBe(0);
    expect(steps.slice(0, -1).every((s) => s.info.reward_survive === 5)).toBe(true);
    const z = env.stateVector()[2]!;
    expect(z <= 1 || z >= 2).toBe(true);
    expect(() => env.step(new Float32Array(17))).toThrow(/after the episode terminated/);
  });

  it("terminateWhenUnhealthy: false keeps going", () => {
    const env = track(new HumanoidEnv(mj, { terminateWhenUnhealthy: false }));
    const { steps } = rollout(env, 0, 300);
    expect(steps.length).toBe(300);
    expect(steps.some((s) => s.info.reward_survive === 0)).toBe(true);
  });

  it("option flags change the observation size like Gymnasium", () => {
    expect(track(new HumanoidEnv(mj, { excludeCurrentPositionsFromObservation: false })).observationSpace.shape).toEqual([350]);
    expect(track(new HumanoidEnv(mj, { includeCinertInObservation: false, includeCfrcExtInObservation: false })).observationSpace.shape).toEqual([140]);
  });
});

describe.each([
  { id: "Hopper-v5", make: () => new HopperEnv(mj), off: () => new HopperEnv(mj, { terminateWhenUnhealthy: false }) },
  { id: "Walker2d-v5", make: () => new Walker2dEnv(mj), off: () => new Walker2dEnv(mj, { terminateWhenUnhealthy: false }) },
  { id: "InvertedPendulum-v5", make: () => new InvertedPendulumEnv(mj), off: undefined },
])("$id termination", ({ make, off }) => {
  it("terminates when unhealthy, with survive reward 0 on the last step", () => {
    const env = track(make());
    const { steps } = rollout(env, 0, 1000);
    expect(steps.at(-1)!.terminated).toBe(true);
    expect(steps.at(-1)!.info.reward_survive).toBe(0);
    expect(steps.slice(0, -1).every((s) => s.info.reward_survive === 1)).toBe(true);
  });
  it.skipIf(!off)("does not terminate with terminateWhenUnhealthy: false", () => {
    const { steps } = rollout(track(off!()), 0, 200);
    expect(steps.length).toBe(200);
  });
});

describe("HalfCheetah-v5", () => {
  it("never terminates", () => {
    const { steps } = rollout(track(new HalfCheetahEnv(mj)), 0, 200);
    expect(steps.length).toBe(200);
  });
});

describe("lifecycle and options", () => {
  it("close() frees the env; later calls are EnvErrors; close is idempotent", () => {
    const env = new HopperEnv(mj);
    env.reset({ seed: 0 });
    env.close();
    env.close();
    expect(() => env.reset()).toThrow(/after close/);
    expect(() => env.step(new Float32Array(3))).toThrow(/after close/);
  });

  it("rejects unknown or invalid options with a ConfigError naming the key", () => {
    expect(() => new HumanoidEnv(mj, { frameSkip: 0 })).toThrow(ConfigError);
    expect(() => new HumanoidEnv(mj, { frameSkip: 0 })).toThrow(/Humanoid-v5.*frameSkip/);
    expect(() => new HopperEnv(mj, { healthyZRange: [1, 0.5] })).toThrow(/healthyZRange/);
    expect(() => new Walker2dEnv(mj, { ctrl_cost_weight: 1 } as never)).toThrow(/ctrl_cost_weight/);
  });

  it("frameSkip changes dt", () => {
    expect(track(new HopperEnv(mj, { frameSkip: 8 })).dt).toBeCloseTo(0.016, 12);
  });

  it("keeps working when another model grows the wasm heap (views are re-acquired)", () => {
    const env = track(new HumanoidEnv(mj));
    env.reset({ seed: 0 });
    const before = env.wasmHeapBytes();
    const others: MujocoEnv[] = [];
    // Enough models to force at least one heap growth.
    while (env.wasmHeapBytes() === before && others.length < 200) others.push(track(new HumanoidEnv(mj)));
    expect(env.wasmHeapBytes()).toBeGreaterThan(before);
    const s = env.step(new Float32Array(17));
    expect(s.observation.length).toBe(348);
    expect(Number.isFinite(s.reward)).toBe(true);
    expect(env.stateVector()[2]).toBeGreaterThan(1);
  });

  it("the registry factory builds the env with options", async () => {
    const env = track((await envSpec("Hopper-v5").create({ frameSkip: 2 })) as HopperEnv);
    expect(env).toBeInstanceOf(HopperEnv);
    expect(env.dt).toBeCloseTo(0.004, 12);
  });

  it("makeEnv applies Gymnasium's TimeLimit of 1000 steps", async () => {
    const env = await makeEnv("HalfCheetah-v5");
    try {
      env.reset({ seed: 0 });
      const zero = new Float32Array(6);
      let last: StepResult | undefined;
      for (let i = 0; i < 1000; i++) {
        last = env.step(zero);
        if (i < 999) expect(last.truncated).toBe(false);
      }
      expect(last!.truncated).toBe(true);
      expect(last!.terminated).toBe(false);
    } finally {
      env.close();
    }
  });
});
