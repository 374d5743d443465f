import { describe, expect, it } from "vitest";
import { learnerFigures } from "../../src/bench/learner.js";
import type { TorchFigures } from "../../src/bench/torch.js";

const ours = {
  wasm: { backend: "wasm", threads: 1, w1_upd_per_s: 200, w2_b1_p50_us: 30, w2_b16_p50_us: 80, w3_steps_per_s: 9, w3_cpu_steps_per_s: 9.2 },
  libtorch: { backend: "libtorch", threads: 1, w1_upd_per_s: 400, w2_b1_p50_us: 50, w2_b16_p50_us: 80, w3_steps_per_s: 20, w3_cpu_steps_per_s: 20.5 },
};
const torch = (blas: string): TorchFigures => ({ version: "1.13.0", threads: 1, blas, w1: 500, w2: { 1: { p50: 25, p99: 40 }, 16: { p50: 64, p99: 120 } }, w3: 25 });

describe("learner figures", () => {
  it("names each figure by backend and rates ours against torch on OpenBLAS", () => {
    const f = learnerFigures(ours, torch("openblas-pthread"));
    expect(f).toMatchObject({
      wasm_w1_upd_per_s: 200,
      libtorch_w3_cpu_steps_per_s: 20.5,
      torch_w2_b16_p50_us: 64,
      torch_blas: "openblas-pthread",
      torch_threads: 1,
      wasm_w1_ratio_vs_torch: 0.4,
      libtorch_w3_ratio_vs_torch: 0.8,
      // W2 is a latency ratio: above 1, we are slower.
      libtorch_w2_b1_p50_ratio_vs_torch: 2,
      wasm_w2_b16_p50_ratio_vs_torch: 1.25,
    });
    expect(f).not.toHaveProperty("wasm_backend");
  });

  it("computes no ratio against torch on the reference BLAS", () => {
    const f = learnerFigures(ours, torch("reference"));
    expect(f.torch_blas).toBe("reference");
    expect(f.torch_w1_upd_per_s).toBe(500);
    expect(f.libtorch_w1_upd_per_s).toBe(400);
    expect(Object.keys(f).filter((k) => k.includes("ratio"))).toEqual([]);
  });

  it("reports ours alone without torch", () => {
    const f = learnerFigures(ours, null);
    expect(Object.keys(f).filter((k) => k.startsWith("torch_") || k.includes("ratio"))).toEqual([]);
    expect(f.wasm_w2_b1_p50_us).toBe(30);
  });
});
