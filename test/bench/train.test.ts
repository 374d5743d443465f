import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { trainBenchmark, trainRates } from "../../src/bench/train.js";

const record = (step: number, tag: string, value: number) => JSON.stringify({ step, tag, value, wall_time: 0 });

describe("bench train", () => {
  it("times the steps after learning starts apart from the whole run", () => {
    const metrics = [
      record(100, "charts/train_seconds", 0.1),
      record(100, "charts/updates", 0),
      record(200, "charts/train_seconds", 0.5),
      record(200, "charts/updates", 100),
      record(400, "charts/train_seconds", 1.5),
      record(400, "charts/updates", 300),
      "",
    ].join("\n");
    const r = trainRates(metrics, 150);
    expect(r.envStepsPerS).toBeCloseTo(200);
    expect(r.updatesPerS).toBeCloseTo(200);
    expect(r.overallEnvStepsPerS).toBeCloseTo(400 / 1.5);
    expect(() => trainRates(metrics, 300)).toThrow(/too few/);
  });

  it("runs the real trainer in a child process and reports env steps/s", async () => {
    const lines: string[] = [];
    const fig = await trainBenchmark.run({ quick: true, options: { config: "lunarlander/dqn-reaper", steps: 300, backends: "wasm" }, log: (l) => lines.push(l) });
    expect(fig).toMatchObject({ preset: "lunarlander/dqn-reaper", steps: 300, learning_starts: 30 });
    for (const k of ["wasm_env_steps_per_s", "wasm_overall_env_steps_per_s", "wasm_updates_per_s", "wasm_wall_s"]) expect(fig[k], k).toBeGreaterThan(0);
    expect(fig).not.toHaveProperty("libtorch_speedup_vs_wasm");
    expect(lines.some((l) => /learningStarts 30/.test(l))).toBe(true);
    const runDir = lines.map((l) => /run directory: (\S+)/.exec(l)?.[1]).find(Boolean);
    expect(runDir).toMatch(/qttdm-bench-train-/);
    expect(existsSync(runDir!)).toBe(false);
  });
});
