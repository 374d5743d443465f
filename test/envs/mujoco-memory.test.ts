import { beforeAll, describe, expect, it } from "vitest";
import { HumanoidEnv, loadMujoco, type MujocoModule } from "../../src/envs/mujoco/index.js";

// The wasm heap only grows when the allocator runs out, so these checks catch leaks of whole
// models/data or of anything allocated per reset/step at the scale of the loops below.
describe("MuJoCo wasm memory", () => {
  let mj: MujocoModule;
  beforeAll(async () => {
    mj = await loadMujoco();
  });

  it("1,000 Humanoid resets (with a step each) do not grow the wasm heap", () => {
    const env = new HumanoidEnv(mj);
    try {
      env.reset({ seed: 0 });
      env.step(new Float32Array(17));
      const before = env.wasmHeapBytes();
      for (let i = 0; i < 1000; i++) {
        env.reset({ seed: i });
        env.step(new Float32Array(17).fill(0.1));
      }
      expect(env.wasmHeapBytes()).toBe(before);
    } finally {
      env.close();
    }
  });

  it("creating and closing 100 Humanoid envs does not grow the wasm heap", () => {
    const probe = new HumanoidEnv(mj);
    try {
      // Warm up: the first models (next to the probe) grow the heap to its working size.
      for (let i = 0; i < 5; i++) new HumanoidEnv(mj).close();
      const before = probe.wasmHeapBytes();
      for (let i = 0; i < 100; i++) {
        const env = new HumanoidEnv(mj);
        env.reset({ seed: i });
        env.close();
      }
      expect(probe.wasmHeapBytes()).toBe(before);
    } finally {
      probe.close();
    }
  });
});
