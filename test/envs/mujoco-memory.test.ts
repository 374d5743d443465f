import { beforeAll, describe, expect, it } from "vitest";
import { HumanoidEnv, loadMujoco, mujocoHeapProbe, type MujocoModule } from "../../src/envs/mujoco/index.js";

// Two probes: the wasm memory size (grows only when the allocator runs out) and where a fresh
// 1 MiB block lands (moves up as soon as anything leaks, long before memory must grow).
describe("MuJoCo wasm memory", () => {
  let mj: MujocoModule;
  beforeAll(async () => {
    mj = await loadMujoco();
  });

  it("the probe sees a small leak", () => {
    const before = mujocoHeapProbe(mj);
    const leaked = Array.from({ length: 20 }, () => new mj.DoubleBuffer(1024)); // 160 KiB
    const after = mujocoHeapProbe(mj);
    for (const b of leaked) b.delete();
    expect(after.topAddress).toBeGreaterThan(before.topAddress);
    expect(mujocoHeapProbe(mj)).toEqual(before);
  });

  it("1,000 Humanoid resets (with a step each) allocate nothing on the wasm heap", () => {
    const env = new HumanoidEnv(mj);
    try {
      env.reset({ seed: 0 });
      env.step(new Float32Array(17));
      const before = mujocoHeapProbe(mj);
      for (let i = 0; i < 1000; i++) {
        env.reset({ seed: i });
        env.step(new Float32Array(17).fill(0.1));
      }
      expect(mujocoHeapProbe(mj)).toEqual(before);
    } finally {
      env.close();
    }
  });

  it("creating and closing 100 Humanoid envs frees everything", () => {
    const probe = new HumanoidEnv(mj);
    try {
      // Warm up: the first models (next to the probe env) grow the heap to its working size.
      for (let i = 0; i < 5; i++) new HumanoidEnv(mj).close();
      const before = mujocoHeapProbe(mj);
      for (let i = 0; i < 100; i++) {
        const env = new HumanoidEnv(mj);
        env.reset({ seed: i });
        env.step(new Float32Array(17));
        env.close();
      }
      expect(mujocoHeapProbe(mj)).toEqual(before);
    } finally {
      probe.close();
    }
  });
});
