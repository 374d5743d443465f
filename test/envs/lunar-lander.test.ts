import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, EnvError } from "../../src/core/errors.js";
import { makeEnv } from "../../src/envs/make.js";
import { createLunarLander, heuristic, LunarLander } from "../../src/envs/box2d/lunar-lander.js";
import { loadBox2D, wasmHeapProbe } from "../../src/envs/box2d/loader.js";
import "../../src/envs/index.js";
import { readReference, trajectories, type ResetRef } from "./reference-data.js";

const resets = readReference<{ seeds: ResetRef[] }>("lunarlander/resets_seeds_0_4.json").seeds;
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe("LunarLander-v3 reset matches Gymnasium", () => {
  let env: LunarLander;
  beforeAll(async () => {
    env = await createLunarLander("LunarLander-v3", {});
  });
  afterAll(() => env.close());

  for (const seed of [0, 1, 2, 3, 4]) {
    it(`seed ${seed}: terrain, helipad, force and moon edges are exact; observation within 5e-4`, () => {
      const ref = resets[seed]!;
      const { observation, info } = env.reset({ seed });
      const r = env.lastReset!;
      expect(Array.from(r.heightRawDraws)).toEqual(ref.height_raw_draws);
      expect(Array.from(r.smoothY)).toEqual(ref.smooth_y);
      expect(Array.from(r.chunkX)).toEqual(ref.chunk_x);
      expect([r.helipadX1, r.helipadX2, r.helipadY]).toEqual([ref.helipad_x1, ref.helipad_x2, ref.helipad_y]);
      expect(r.initialForce).toEqual(ref.initial_force);
      expect(env.moonEdges()).toEqual(ref.moon_edges_float32);
      expect(observation).toBeInstanceOf(Float32Array);
      expect(observation.length).toBe(8);
      expect(info).toEqual({});
      expect(maxAbsDiff(observation, ref.initial_obs)).toBeLessThan(5e-4);
      // Box2D 2.4's revolute limit solver differs from 2.3's; the legs start outside their limits.
      expect(maxAbsDiff(env.rawState(), ref.initial_raw)).toBeLessThan(1e-3);
      const legs = env.legStates();
      for (let i = 0; i < 2; i++) expect(maxAbsDiff(legs[i]!, ref.legs_after_reset[i]!)).toBeLessThan(1e-3);
    });
  }

  it("the same seed reproduces the episode exactly; reset without a seed continues the stream", () => {
    const a = env.reset({ seed: 7 }).observation;
    const s1 = [env.step(2), env.step(1), env.step(3)].map((r) => Array.from(r.observation));
    const next = env.reset().observation;
    const b = env.reset({ seed: 7 }).observation;
    const s2 = [env.step(2), env.step(1), env.step(3)].map((r) => Array.from(r.observation));
    expect(b).toEqual(a);
    expect(s2).toEqual(s1);
    expect(next).not.toEqual(a);
  });
});

describe("LunarLander-v3 trajectories match Gymnasium", () => {
  const all = trajectories();
  const summary: string[] = [];
  afterAll(() => {
    console.log(`steps within 1e-2 of Gymnasium (of the reference length):\n${summary.join("\n")}`);
  });

  for (const { name, ref, options } of all) {
    it(`${name}: dispersion draws exact, first 20 steps close, wind offsets exact`, async () => {
      const env = await createLunarLander("LunarLander-v3", options);
      try {
        const obs0 = env.reset({ seed: ref.seed }).observation;
        expect(maxAbsDiff(obs0, ref.initial_obs)).toBeLessThan(5e-4);
        expect(env.lastDispersion[0]).toBe(ref.dispersion[0]![0]);
        expect(env.lastDispersion[1]).toBe(ref.dispersion[0]![1]);
        if (ref.wind_idx0 !== undefined) {
          expect(env.lastReset!.windIdx0).toBe(ref.wind_idx0);
          expect(env.lastReset!.torqueIdx0).toBe(ref.torque_idx0);
        }
        let within = ref.length;
        let ended = "still flying when the recorded actions ran out";
        let k = 0;
        for (; k < ref.actions.length; k++) {
          const a = ref.actions[k]!;
          const r = env.step(typeof a === "number" ? a : Float32Array.from(a));
          // The engine-noise draws do not depend on the physics: exact for every step taken.
          expect([env.lastDispersion[0], env.lastDispersion[1]]).toEqual(ref.dispersion[k + 1]);
          const err = maxAbsDiff(r.observation, ref.obs[k]!);
          if (err > 1e-2 && within === ref.length) within = k;
          if (k < 20) {
            // Positions, velocities, angle, contacts: 5e-3. Angular velocity spikes for one step when a
            // leg reaches its joint limit (Box2D 2.4's speculative limit vs 2.3's block solver): 1e-2.
            for (let j = 0; j < 8; j++) {
              expect(Math.abs(r.observation[j]! - ref.obs[k]![j]!), `step ${k} obs[${j}]`).toBeLessThan(j === 5 ? 1e-2 : 5e-3);
            }
            expect(Math.abs(r.reward - ref.rewards[k]!), `step ${k} reward`).toBeLessThan(0.1);
            expect(r.terminated).toBe(ref.terminated[k]);
          }
          if (r.terminated || r.truncated) {
            ended = `ended here at step ${k + 1}`;
            break;
          }
        }
        summary.push(`  ${name.padEnd(32)} ${String(within).padStart(4)} / ${ref.length} (${ended}; ${ref.end} there)`);
        // Measured: every trajectory stays within 1e-2 for at least 60 steps.
        expect(within).toBeGreaterThanOrEqual(Math.min(60, ref.length));
      } finally {
        env.close();
      }
    });
  }

  it("heuristic() reproduces Gymnasium's heuristic actions on the recorded observations", () => {
    for (const { ref } of all.filter((t) => t.name.startsWith("traj_heuristic"))) {
      let obs = ref.initial_obs;
      for (let k = 0; k < ref.actions.length; k++) {
        expect(heuristic(obs, false), `seed ${ref.seed} step ${k}`).toBe(ref.actions[k]);
        obs = ref.obs[k]!;
      }
    }
  });
});

describe("LunarLander heuristic lands (small real version of the 100-seed check in test/slow)", () => {
  for (const continuous of [false, true]) {
    it(`${continuous ? "continuous" : "discrete"}: seeds 0..4 land with return > 200`, async () => {
      const env = await makeEnv(continuous ? "LunarLanderContinuous-v3" : "LunarLander-v3");
      try {
        for (let seed = 0; seed < 5; seed++) {
          let obs = env.reset({ seed }).observation;
          let total = 0;
          let last = 0;
          for (;;) {
            const r = env.step(heuristic(obs, continuous));
            total += r.reward;
            obs = r.observation;
            last = r.reward;
            if (r.terminated || r.truncated) {
              expect(r.terminated, `seed ${seed} ends by landing, not by the time limit`).toBe(true);
              break;
            }
          }
          expect(last, `seed ${seed}: the lander comes to rest (+100)`).toBe(100);
          expect(total, `seed ${seed} return`).toBeGreaterThan(200);
        }
      } finally {
        env.close();
      }
    });
  }

  it("continuous heuristic clips to [-1, 1] and is float32", () => {
    const a = heuristic(Float32Array.of(0.5, 0.1, 0.9, -0.8, 0.1, 0.2, 0, 0), true) as Float32Array;
    expect(a).toBeInstanceOf(Float32Array);
    for (const v of a) expect(Math.abs(v)).toBeLessThanOrEqual(1);
    expect(heuristic(Float32Array.of(0, 0, 0, -0.5, 0, 0, 1, 0), false)).toBe(2);
    expect(heuristic(Float32Array.of(0, 0.5, 0, 0, -0.3, 0, 0, 0), false)).toBe(1);
    expect(heuristic(Float32Array.of(0, 0.5, 0, 0, 0.3, 0, 0, 0), false)).toBe(3);
    expect(heuristic(Float32Array.of(0, 0.5, 0, 0, 0, 0, 0, 0), false)).toBe(0);
  });
});

describe("LunarLander spaces, physics options and wasm memory", () => {
  it("has Gymnasium's v3 spaces and reward threshold", async () => {
    const env = await makeEnv("LunarLander-v3");
    expect(Array.from(env.observationSpace.high)).toEqual(Array.from(Float32Array.of(2.5, 2.5, 10, 10, 2 * Math.PI, 10, 1, 1)));
    expect(Array.from(env.observationSpace.low)).toEqual(Array.from(Float32Array.of(-2.5, -2.5, -10, -10, -2 * Math.PI, -10, 0, 0)));
    expect(env.actionSpace).toEqual({ kind: "discrete", n: 4 });
    expect(env.rewardThreshold).toBe(200);
    env.close();
    const cont = await makeEnv("LunarLanderContinuous-v3");
    expect(cont.actionSpace.kind).toBe("box");
    expect(cont.actionSpace.kind === "box" && Array.from(cont.actionSpace.high)).toEqual([1, 1]);
    cont.close();
  });

  it("gravity changes the fall", async () => {
    const a = await makeEnv("LunarLander-v3", { gravity: -2 });
    const b = await makeEnv("LunarLander-v3", { gravity: -11 });
    a.reset({ seed: 3 });
    b.reset({ seed: 3 });
    let ya = 0;
    let yb = 0;
    for (let i = 0; i < 10; i++) {
      ya = a.step(0).observation[3]!;
      yb = b.step(0).observation[3]!;
    }
    expect(yb).toBeLessThan(ya);
    a.close();
    b.close();
  });

  it("10,000-reset check, fast version: 1,500 resets leave the wasm heap where it was", async () => {
    const B = await loadBox2D();
    const env = await createLunarLander("LunarLander-v3", {});
    for (let i = 0; i < 200; i++) env.reset({ seed: i });
    const before = wasmHeapProbe(B);
    for (let i = 0; i < 1500; i++) {
      env.reset({ seed: i });
      env.step(2);
    }
    expect(wasmHeapProbe(B)).toEqual(before);
    env.close();
    // close() returns everything: creating and closing envs does not move the heap either.
    for (let i = 0; i < 50; i++) {
      const e = await createLunarLander("LunarLander-v3", {});
      e.reset({ seed: i });
      e.close();
    }
    const after = wasmHeapProbe(B);
    expect(after.memoryBytes).toBe(before.memoryBytes);
    expect(after.topAddress).toBeLessThanOrEqual(before.topAddress);
  });
});

describe("LunarLander input validation", () => {
  it("rejects bad options with the field, the value and what was expected", async () => {
    await expect(makeEnv("LunarLander-v3", { gravity: -13 })).rejects.toThrow(ConfigError);
    await expect(makeEnv("LunarLander-v3", { gravity: -13 })).rejects.toThrow(/gravity = -13/);
    await expect(makeEnv("LunarLander-v3", { gravity: 0 })).rejects.toThrow(/gravity/);
    await expect(makeEnv("LunarLander-v3", { windPower: 25 })).rejects.toThrow(/windPower = 25.*0\.\.20/);
    await expect(makeEnv("LunarLander-v3", { turbulencePower: -1 })).rejects.toThrow(/turbulencePower/);
    await expect(makeEnv("LunarLander-v3", { continuous: "yes" })).rejects.toThrow(/continuous/);
    await expect(makeEnv("LunarLander-v3", { enable_wind: true })).rejects.toThrow(
      /unknown option "enable_wind"; valid options: continuous, gravity, enableWind, windPower, turbulencePower/,
    );
    await expect(makeEnv("LunarLander-v9")).rejects.toThrow(EnvError);
    await expect(makeEnv("LunarLander-v3", {}, { maxEpisodeSteps: 0 })).rejects.toThrow(/maxEpisodeSteps/);
  });

  it("rejects bad discrete actions and stepping outside an episode", async () => {
    const env = await makeEnv("LunarLander-v3", {}, { maxEpisodeSteps: 3 });
    expect(() => env.step(0)).toThrow(/before reset/);
    env.reset({ seed: 1 });
    for (const bad of [4, -1, 1.5, Number.NaN, "2", Float32Array.of(1), null, undefined]) {
      expect(() => env.step(bad as never), `action ${String(bad)}`).toThrow(EnvError);
    }
    env.step(0);
    env.step(0);
    const last = env.step(0);
    expect(last.truncated).toBe(true);
    expect(() => env.step(0)).toThrow(/after the episode ended/);
    env.reset();
    env.close();
    expect(() => env.reset()).toThrow(/closed/);
    env.close();
  });

  it("rejects bad continuous actions, clips out-of-range ones like Gymnasium", async () => {
    const env = await makeEnv("LunarLanderContinuous-v3");
    env.reset({ seed: 2 });
    for (const bad of [2, Float32Array.of(0.5), Float32Array.of(0, 0, 0), Float32Array.of(Number.NaN, 0), null]) {
      expect(() => env.step(bad as never)).toThrow(EnvError);
    }
    const other = await makeEnv("LunarLanderContinuous-v3");
    other.reset({ seed: 2 });
    const a = env.step(Float32Array.of(5, -7));
    const b = other.step(Float32Array.of(1, -1));
    expect(a.observation).toEqual(b.observation);
    expect(a.reward).toBe(b.reward);
    env.close();
    other.close();
  });

  it("a crash terminates with -100 and further steps are refused", async () => {
    const env = await createLunarLander("LunarLander-v3", {});
    env.reset({ seed: 0 });
    let r = env.step(0);
    while (!r.terminated) r = env.step(0);
    expect(r.reward).toBe(-100);
    expect(() => env.step(0)).toThrow(/after the episode ended/);
    expect(() => env.reset({ seed: -1 })).toThrow(/seed/);
    env.close();
  });
});
