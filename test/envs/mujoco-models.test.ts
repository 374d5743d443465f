import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MjModel } from "@mujoco/mujoco";
import { compileAsset, compileXml, loadMujoco, type MujocoModule } from "../../src/envs/mujoco/module.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const referenceDir = resolve(repoRoot, "../shared/reference/mujoco");
const haveReference = existsSync(referenceDir);
if (!haveReference) console.warn(`skipping MJCF comparison: Gymnasium reference models not found at ${referenceDir}`);

const FILES = ["humanoid.xml", "hopper.xml", "walker2d_v5.xml", "half_cheetah.xml", "inverted_pendulum.xml"];
const ARRAYS = ["body_mass", "body_inertia", "body_pos", "body_quat", "jnt_range", "jnt_type", "dof_damping", "dof_armature", "actuator_gear", "actuator_ctrlrange", "geom_friction", "geom_size", "qpos0"] as const;

describe.skipIf(!haveReference)("project MJCF models are physically identical to Gymnasium's", () => {
  let mj: MujocoModule;
  beforeAll(async () => {
    mj = await loadMujoco();
  });

  for (const file of FILES) {
    it(file, () => {
      const ours = compileAsset(mj, file);
      const theirs = compileXml(mj, readFileSync(resolve(referenceDir, file), "utf8"), `reference-${file}`);
      try {
        for (const k of ["nq", "nv", "nu", "nbody", "njnt", "ngeom", "ntendon"] as const) expect(ours[k], k).toBe(theirs[k]);
        for (const k of ARRAYS) {
          const a = (ours as unknown as Record<string, Float64Array>)[k]!;
          expect(a.length, k).toBeGreaterThan(0);
          expect(Array.from(a), k).toEqual(Array.from((theirs as unknown as Record<string, Float64Array>)[k]!));
        }
        const [o1, o2] = [ours.opt, theirs.opt];
        expect(o1.timestep).toBe(o2.timestep);
        expect(o1.integrator).toBe(o2.integrator);
        expect(o1.solver).toBe(o2.solver);
        expect(o1.iterations).toBe(o2.iterations);
        expect(Array.from(o1.gravity as Float64Array)).toEqual(Array.from(o2.gravity as Float64Array));
        o1.delete();
        o2.delete();
      } finally {
        ours.delete();
        theirs.delete();
      }
    });
  }
});

describe("model loading", () => {
  let mj: MujocoModule;
  let model: MjModel | undefined;
  beforeAll(async () => {
    mj = await loadMujoco();
  });
  afterAll(() => model?.delete());

  it("loads the wasm module once per process", async () => {
    expect(await loadMujoco()).toBe(mj);
  });

  it("reports an MJCF error as an EnvError naming the model", () => {
    expect(() => compileXml(mj, "<mujoco><worldbody><body></mujoco>", "broken.xml")).toThrow(/could not compile the model "broken.xml"/);
  });

  it("reports a missing asset file with its path", () => {
    expect(() => compileAsset(mj, "no-such-model.xml")).toThrow(/no-such-model\.xml.*not found/);
  });

  it("compiles the humanoid with Gymnasium's sizes", () => {
    model = compileAsset(mj, "humanoid.xml");
    expect([model.nq, model.nv, model.nu, model.nbody]).toEqual([24, 23, 17, 14]);
  });
});
