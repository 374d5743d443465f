/**
 * Slow QT-TDM checks (`npm run test:slow`): the real preset sizes on the wasm backend, a few thousand
 * env steps. Minutes on a 2-core CPU.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { train } from "../../src/train/trainer.js";

function series(runDir: string, tag: string): number[] {
  return readFileSync(join(runDir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { tag: string; value?: number })
    .filter((r) => r.tag === tag)
    .map((r) => r.value!);
}

describe("QT-TDM presets at their real sizes", () => {
  it("InvertedPendulum-v5: the TDM fits, planning is timed, and the greedy planner beats a random policy", async () => {
    const runs = mkdtempSync(join(tmpdir(), "qttdm-slow-"));
    const config = loadConfig({
      config: "inverted-pendulum/qttdm",
      set: [
        `experiment.runsDir=${runs}`,
        "experiment.backend=wasm",
        "experiment.totalSteps=3000",
        // ε from 1 to 0 over the first 1,500 steps, as the preset's 5% of 30k.
        "agent.exploration.fraction=0.5",
        "eval.every=0",
        "eval.episodes=3",
        "logging.every=250",
        "logging.progress=false",
        "checkpoint.every=0",
      ],
    });
    const s = await train({ config, progress: false, print: () => {} });
    const state = series(s.runDir, "tdm/state_loss");
    const term = series(s.runDir, "tdm/termination_loss");
    expect(state[state.length - 1]!).toBeLessThan(state[0]! / 2);
    expect(term[term.length - 1]!).toBeLessThan(term[0]!);
    expect(series(s.runDir, "planner/ms_per_action").every((v) => v > 0)).toBe(true);
    // A uniformly random policy keeps the pole up for ≈ 5–10 steps.
    expect(s.finalEval!.mean).toBeGreaterThan(30);
  }, 1_200_000);
});
