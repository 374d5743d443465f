/**
 * Soak (`npm run test:slow`): a 20k-step run killed with SIGKILL at 10 random moments and resumed each time ends
 * with the weights, replay and metrics.jsonl of an uninterrupted run (apart from wall-clock fields).
 */
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import { resolveCheckpointDir } from "../../src/train/checkpoint.js";
import { latestStep, metricsOf, onlyRun, startTraining, until } from "../helpers/runs.js";

const config = [
  "experiment.backend=cpu",
  "experiment.totalSteps=20000",
  "agent.network.hidden=[32, 32]",
  "train.learningStarts=500",
  "train.batchSize=32",
  "checkpoint.every=1000",
  "eval.every=5000",
  "eval.episodes=1",
  "logging.every=500",
].flatMap((s) => ["--set", s]);

/** The final checkpoint's files, with trainer.json's wall-clock and log-length fields dropped. */
function finalState(run: string): Record<string, unknown> {
  const dir = resolveCheckpointDir(run);
  const out: Record<string, unknown> = {};
  for (const f of readdirSync(dir)) {
    if (f !== "trainer.json") out[f] = readFileSync(join(dir, f));
    else {
      const m = JSON.parse(readFileSync(join(dir, f), "utf8"));
      delete m.trainer.trainSeconds;
      delete m.trainer.logs;
      out[f] = m;
    }
  }
  return out;
}

describe("soak", () => {
  it("10 SIGKILLs at random moments change nothing a run leaves", { timeout: 1_800_000 }, async () => {
    const whole = mkdtempSync(join(tmpdir(), "qttdm-soak-whole-"));
    // Children run asynchronously: a synchronous spawn of minutes starves vitest's worker RPC.
    expect(await startTraining(["--set", `experiment.runsDir=${whole}`, ...config]).exited).toBe(0);

    const runs = mkdtempSync(join(tmpdir(), "qttdm-soak-killed-"));
    const rng = new Rng(2026);
    let run: string | null = null;
    for (let kill = 0; kill < 10; kill++) {
      const t = startTraining(run ? ["--resume", run] : ["--set", `experiment.runsDir=${runs}`, ...config]);
      // The first session must leave a checkpoint to resume from.
      if (!run) await until(() => readdirSync(runs).length > 0 && latestStep(onlyRun(runs)) > 0, 120_000);
      else await until(() => t.out.text.includes("resuming"), 120_000);
      await new Promise((r) => setTimeout(r, rng.uniform(200, 4000)));
      t.child.kill("SIGKILL");
      await t.exited;
      run ??= onlyRun(runs);
    }
    const last = startTraining(["--resume", run!]);
    expect(await last.exited).toBe(0);
    expect(last.out.text).not.toMatch(/error/i);
    expect(metricsOf(run!)).toEqual(metricsOf(onlyRun(whole)));
    expect(finalState(run!)).toEqual(finalState(onlyRun(whole)));
  });
});
