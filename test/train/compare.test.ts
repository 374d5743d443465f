import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkpointEnvSteps } from "../../src/train/checkpoint.js";
import { compare, jobConfig } from "../../src/train/compare.js";
import { heldOutPath } from "../../src/train/run-dir.js";
import { train } from "../../src/train/trainer.js";
import { qttdm } from "../helpers/cli.js";

const tiny = [
  "experiment.backend=cpu",
  "agent.network.hidden=[16, 16]",
  "train.learningStarts=100",
  "train.batchSize=16",
  "eval.every=200",
  "eval.episodes=1",
  "checkpoint.every=0",
];

describe("compare", () => {
  it("runs every config × seed and writes summary.md and summary.json", async () => {
    const out = mkdtempSync(join(tmpdir(), "qttdm-compare-"));
    const { summaries } = await compare({
      configs: ["lunarlander/dqn-uniform", "lunarlander/dqn-reaper"],
      seeds: 2,
      steps: 400,
      set: [...tiny, "eval.heldOut.episodes=1"],
      out,
      workers: 0,
      print: () => {},
    });
    expect(summaries.map((s) => s.runs)).toEqual([2, 2]);
    for (const s of summaries) {
      expect(s.finalScores).toHaveLength(2);
      expect(s.finalScores.every(Number.isFinite)).toBe(true);
      expect(s.threshold).toBe(200);
      expect(s.heldOutScores).toHaveLength(2);
      expect(s.heldOutScores.every((h) => h !== null && Number.isFinite(h))).toBe(true);
    }
    expect(summaries[0]!.varianceRatioToUniform).toBeCloseTo(1);
    const md = readFileSync(join(out, "summary.md"), "utf8");
    expect(md).toContain("dqn-reaper");
    expect(md).toContain(`| ${summaries[1]!.heldOutMean.toFixed(1)} ± ${summaries[1]!.heldOutStd.toFixed(1)} |`);
    const runs = JSON.parse(readFileSync(join(out, "summary.json"), "utf8")).runs as { config: string; seed: number; runDir: string }[];
    expect(runs).toHaveLength(4);

    // A run without a held-out evaluation is counted out of that column, and the column says so.
    rmSync(heldOutPath(join(out, runs.find((r) => r.config === "lunarlander/dqn-reaper" && r.seed === 2)!.runDir)));
    const again = await compare({ configs: ["lunarlander/dqn-uniform", "lunarlander/dqn-reaper"], seeds: 2, steps: 400, set: [...tiny, "eval.heldOut.episodes=1"], out, workers: 0, summariseOnly: true, print: () => {} });
    expect(again.summaries[1]!.heldOutScores).toEqual([summaries[1]!.heldOutScores[0], null]);
    expect(readFileSync(join(out, "summary.md"), "utf8")).toContain(`| ${summaries[1]!.heldOutScores[0]!.toFixed(1)} ± 0.0 (1 of 2 seeds) |`);
  });

  it("resumes into the same --out: keeps finished runs, resumes interrupted ones; --summarise trains nothing", async () => {
    const out = mkdtempSync(join(tmpdir(), "qttdm-compare-resume-"));
    const opts = { configs: ["lunarlander/dqn-uniform"], seeds: 2, steps: 400, set: tiny, out, workers: 0 };
    const cut = await train({ config: jobConfig("lunarlander/dqn-uniform", 1, out, opts), stopAfter: 200, progress: false, print: () => {} });
    expect(cut.interrupted).toBe(true);

    const lines: string[] = [];
    const partial = await compare({ ...opts, summariseOnly: true, print: (l) => lines.push(l) });
    expect(partial.summaries[0]).toMatchObject({ runs: 1, unfinishedRuns: 1 });
    expect(lines.join("\n")).toContain("no run of lunarlander/dqn-uniform seed 2");
    expect(readFileSync(join(out, "summary.md"), "utf8")).toContain("1 (1 unfinished)");

    const full = await compare({ ...opts, print: () => {} });
    expect(full.summaries[0]).toMatchObject({ runs: 2, unfinishedRuns: 0 });
    const runs = JSON.parse(readFileSync(join(out, "summary.json"), "utf8")).runs as { seed: number; runDir: string }[];
    expect(join(out, runs.find((r) => r.seed === 1)!.runDir)).toBe(cut.runDir);
    expect(checkpointEnvSteps(cut.runDir)).toBe(400);

    const again: string[] = [];
    const repeat = await compare({ ...opts, print: (l) => again.push(l) });
    expect(again.filter((l) => l.includes("found"))).toHaveLength(2);
    expect(again.join("\n")).not.toContain("runs to train");
    expect(repeat.summaries[0]!.finalScores).toEqual(full.summaries[0]!.finalScores);
  });

  it("a diverged run is summarised as diverged, does not stop the others and is not retrained", async () => {
    const out = mkdtempSync(join(tmpdir(), "qttdm-compare-diverged-"));
    // A freshly initialised critic's mean Q is already off 0 by more than 1e-3: the bound is crossed at once.
    const opts = { configs: ["lunarlander/dqn-uniform"], seeds: 2, steps: 400, set: [...tiny, "agent.maxAbsQ=1e-3"], out, workers: 0 };
    const lines: string[] = [];
    const { summaries } = await compare({ ...opts, print: (l) => lines.push(l) });
    expect(summaries[0]).toMatchObject({ runs: 2, divergedRuns: 2, unfinishedRuns: 0, seedsSolved: 0 });
    expect(lines.filter((l) => l.includes("diverged lunarlander/dqn-uniform seed"))).toHaveLength(2);
    expect(readFileSync(join(out, "summary.md"), "utf8")).toContain("| 2 (2 diverged) |");
    const again: string[] = [];
    await compare({ ...opts, print: (l) => again.push(l) });
    expect(again.filter((l) => l.includes("(diverged)"))).toHaveLength(2);
    expect(again.join("\n")).not.toContain("runs to train");
  });

  it("runs in worker threads from the CLI, and eval reads the runs' checkpoints", () => {
    const out = mkdtempSync(join(tmpdir(), "qttdm-compare-cli-"));
    const r = qttdm(["compare", "--configs", "lunarlander/dqn-uniform", "--seeds", "2", "--steps", "300", "--out", out, ...tiny.flatMap((s) => ["--set", s])], { timeoutMs: 170_000 });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    expect(summary.runs).toHaveLength(2);
    const runDir = join(out, summary.runs[0].runDir as string);
    expect(existsSync(join(runDir, "checkpoints", "latest"))).toBe(true);
    const record = join(out, "traj.json");
    const e = qttdm(["eval", "--checkpoint", runDir, "--episodes", "2", "--record", record]);
    expect(e.status).toBe(0);
    expect(e.stdout).toMatch(/mean return -?\d/);
    const rec = JSON.parse(readFileSync(record, "utf8"));
    expect(rec.trajectories).toHaveLength(2);
    expect(rec.trajectories[0].actions.length).toBe(rec.lengths[0]);

    // Frozen-buffer replay on the run's checkpointed buffer: inspect, and a schedule that reproduces itself.
    const snapshot = join(runDir, "checkpoints", readFileSync(join(runDir, "checkpoints", "latest"), "utf8").trim(), "replay.bin");
    const inspect = qttdm(["replay", "inspect", snapshot]);
    expect(inspect.status).toBe(0);
    expect(inspect.stdout).toMatch(/300/);
    const runSchedule = (name: string) => {
      const r = qttdm(["replay", "schedule", snapshot, "--steps", "20", "--seed", "7", "--out", join(out, name)]);
      expect(r.status).toBe(0);
      return readFileSync(join(out, name), "utf8");
    };
    const first = runSchedule("s1.jsonl");
    expect(first.trim().split("\n")).toHaveLength(21);
    expect(runSchedule("s2.jsonl")).toBe(first);
    expect(qttdm(["replay", "schedule", snapshot]).stderr).toContain("--steps");

    // A run diverging in a worker thread is reported as such, and the comparison still completes.
    const diverged = qttdm(["compare", "--configs", "lunarlander/dqn-uniform", "--seeds", "1", "--steps", "300", "--out", join(out, "diverged"), ...[...tiny, "agent.maxAbsQ=1e-3"].flatMap((s) => ["--set", s])]);
    expect(diverged.status).toBe(0);
    expect(diverged.stdout).toMatch(/diverged lunarlander\/dqn-uniform seed 1 after \d+ s: training diverged at update \d+/);
    expect(readFileSync(join(out, "diverged", "summary.md"), "utf8")).toContain("| 1 (1 diverged) |");
  });
});
