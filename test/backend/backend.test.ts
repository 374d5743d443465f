import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { countLeaked, currentBackend, forcedBackend, formatBackend, numTensors, selectBackend } from "../../src/backend/index.js";
import { loadAddon } from "../../src/backend/libtorch/addon.js";
import { ConfigError, QttdmError } from "../../src/core/errors.js";

// QTTDM_BACKEND replaces every choice, so the choices themselves can only be tested without it.
describe.skipIf(forcedBackend() !== null)("selectBackend", () => {
  it("selects wasm with SIMD from node_modules, single-threaded, and describes it", async () => {
    const info = await selectBackend("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(info).toMatchObject({ name: "wasm", requested: "wasm", simd: true, threads: 1, gpu: false, nativePackage: null });
    expect(info.versions["tfjs-backend-wasm"]).toMatch(/^4\./);
    expect(formatBackend(info)).toMatch(/^wasm \(simd, 1 thread\) tfjs-core 4\./);
    expect(currentBackend()).toBe(info);
    // It computes correctly.
    expect(Array.from(tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync())).toEqual([11]);
  });

  it("selects cpu", async () => {
    const info = await selectBackend("cpu");
    expect(info.name).toBe("cpu");
    expect(info.simd).toBeNull();
  });

  it("auto picks a native backend when installed, else libtorch when built, else wasm", async () => {
    const info = await selectBackend("auto");
    const libtorch = "addon" in loadAddon();
    expect(["tensorflow", libtorch ? "libtorch" : "wasm"]).toContain(info.name);
    if (info.name !== "tensorflow") expect(info.notes.join(" ")).toMatch(/tfjs-node is not installed/);
    if (info.name === "wasm") expect(info.notes.join(" ")).toMatch(/libtorch addon is not built \(apt-get install -y libtorch-dev/);
  });

  it("explains how to install an unavailable native backend", async () => {
    let native = true;
    try {
      await import("@tensorflow/tfjs-node" as string);
    } catch {
      native = false;
    }
    if (native) return;
    await expect(selectBackend("tensorflow")).rejects.toThrow(QttdmError);
    await expect(selectBackend("tensorflow")).rejects.toThrow(/npm install @tensorflow\/tfjs-node/);
  });

  it("rejects unknown names", async () => {
    await expect(selectBackend("webgpu" as never)).rejects.toThrow(ConfigError);
    await expect(selectBackend("wasm", { device: "tpu" as never })).rejects.toThrow(/device: got "tpu", expected one of auto, cpu, cuda/);
  });
});

describe("memory helpers", () => {
  it("count live tensors and leaks", async () => {
    await selectBackend("cpu");
    const before = numTensors();
    const t = tf.ones([2]);
    expect(numTensors()).toBe(before + 1);
    t.dispose();
    const kept: tf.Tensor[] = [];
    expect(countLeaked(() => kept.push(tf.ones([1])), 5)).toBe(5);
    expect(countLeaked(() => tf.tidy(() => void tf.ones([1])), 5)).toBe(0);
    tf.dispose(kept);
  });
});
