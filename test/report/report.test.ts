import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { QttdmError } from "../../src/core/errors.js";
import { buildReport } from "../../src/report/build.js";
import { writeReport } from "../../src/report/index.js";
import { loadReportData } from "../../src/report/runs.js";
import { train } from "../../src/train/trainer.js";
import { qttdm } from "../helpers/cli.js";

const tiny = ["experiment.backend=cpu", "agent.network.hidden=[16, 16]", "train.learningStarts=100", "train.batchSize=16", "eval.episodes=1", "eval.every=250", "experiment.totalSteps=1000", "checkpoint.every=0", "logging.every=100"];
let root: string;

/** Two configs (PER vs uniform replay) × two seeds of real tiny runs. */
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "qttdm-report-"));
  for (const sampler of ["per", "uniform"]) {
    for (const seed of [1, 2]) {
      const config = loadConfig({ set: [...tiny, `replay.sampler=${sampler}`, `experiment.seed=${seed}`, `experiment.runsDir=${join(root, "runs")}`] });
      await train({ config, progress: false, print: () => {} });
    }
  }
}, 120_000);

/** A copy of the runs to damage. */
function copyRuns(): string {
  const dir = mkdtempSync(join(tmpdir(), "qttdm-report-copy-"));
  cpSync(join(root, "runs"), join(dir, "runs"), { recursive: true });
  return dir;
}

const count = (s: string, needle: string) => s.split(needle).length - 1;

describe("report", () => {
  it("groups runs by config, draws one curve and band per config, and states the statistics", () => {
    const data = loadReportData([root]);
    expect(data.groups.map((g) => g.runs.map((r) => r.seed))).toEqual([[1, 2], [1, 2]]);
    // Both are experiment "default": the labels name the key that tells them apart.
    expect(data.groups.map((g) => g.label)).toEqual(['default (replay.sampler="per")', 'default (replay.sampler="uniform")']);
    const r = buildReport(data, { reps: 200 });
    const curves = r.figures.find((f) => f.id === "eval-vs-steps")!.svg;
    expect(count(curves, 'class="curve"')).toBe(2);
    expect(count(curves, 'class="band"')).toBe(2);
    expect(count(curves, 'class="seed"')).toBe(4);
    expect(curves).toContain('class="xlabel"');
    for (const id of ["eval-vs-seconds", "train-return", "final", "improvement", "profile", "sample-efficiency", "scalar-losses-td_loss", "scalar-replay-alpha"]) {
      expect(r.figures.map((f) => f.id)).toContain(id);
    }
    const final = r.tables.find((t) => t.title === "Final performance")!;
    expect(final.rows).toHaveLength(2);
    expect(final.rows[0]![2]).toMatch(/^-?[\d.]+ \[-?[\d.]+, -?[\d.]+\]$/);
    const poi = r.tables.find((t) => t.title.startsWith("Probability of improvement"))!;
    expect(poi.rows[0]![2]).toMatch(/better|worse|not significant/);
    const diff = r.tables.find((t) => t.title === "How the configs differ")!;
    expect(diff.rows.map((row) => row[0])).toContain("replay.sampler");
    expect(r.commands[0]).toContain("npx qttdm train --config");
  });

  it("is reproducible: the same inputs and seed give the same page", () => {
    const out1 = join(mkdtempSync(join(tmpdir(), "qttdm-rep-a-")), "r.html");
    const out2 = join(mkdtempSync(join(tmpdir(), "qttdm-rep-b-")), "r.html");
    writeReport([root], { out: out1, reps: 200 });
    writeReport([root], { out: out2, reps: 200 });
    expect(readFileSync(out1, "utf8")).toBe(readFileSync(out2, "utf8"));
    const html = readFileSync(out1, "utf8");
    expect(html).not.toMatch(/(src|href)=["']?https?:/);
    expect(count(html, "<svg")).toBeGreaterThanOrEqual(8);
  });

  it("writes each figure as SVG or PNG", () => {
    for (const format of ["svg", "png"] as const) {
      const out = join(mkdtempSync(join(tmpdir(), `qttdm-rep-${format}-`)), "report.html");
      const { files } = writeReport([root], { out, format, reps: 100 });
      const figures = files.filter((f) => f.endsWith(`.${format}`));
      expect(figures.length).toBeGreaterThanOrEqual(8);
      const head = readFileSync(figures[0]!);
      if (format === "png") expect([...head.subarray(1, 4)].map((c) => String.fromCharCode(c)).join("")).toBe("PNG");
      else expect(head.toString("utf8")).toMatch(/^<svg xmlns/);
    }
  });

  it("says what is missing instead of failing: a damaged metrics line, a run without evaluations, one seed, other envs", () => {
    const dir = copyRuns();
    const runs = readdirSync(join(dir, "runs")).sort();
    appendFileSync(join(dir, "runs", runs[0]!, "metrics.jsonl"), '{"step": 99, "tag": "eval/episodic_re');
    // A run whose evaluations were never written.
    const noEval = join(dir, "runs", runs[1]!, "metrics.jsonl");
    writeFileSync(noEval, readFileSync(noEval, "utf8").split("\n").filter((l) => !l.includes("eval/episodic_return")).join("\n"));
    const data = loadReportData([dir]);
    expect(data.warnings.join("\n")).toMatch(/skipped line \d+ of .*metrics\.jsonl/);
    expect(data.warnings.join("\n")).toContain("has no evaluations");
    const r = buildReport(data, { reps: 100 });
    expect(r.figures.length).toBeGreaterThan(5);

    const one = mkdtempSync(join(tmpdir(), "qttdm-report-one-"));
    cpSync(join(root, "runs", runs[0]!), join(one, runs[0]!), { recursive: true });
    const single = buildReport(loadReportData([one]), { reps: 100 });
    expect(single.warnings.join("\n")).toContain("has one seed: its intervals are points, and nothing about it is significant");
    expect(single.tables.some((t) => t.title.startsWith("Probability of improvement"))).toBe(false);

    const other = copyRuns();
    const cfgFile = join(other, "runs", runs[0]!, "config.yaml");
    writeFileSync(cfgFile, readFileSync(cfgFile, "utf8").replace("id: LunarLander-v3", "id: LunarLanderContinuous-v3"));
    expect(loadReportData([other]).warnings.join("\n")).toContain("the runs are on different envs");
  });

  it("rejects what holds no runs, and a baseline that is not a config, with one clear line", () => {
    const empty = mkdtempSync(join(tmpdir(), "qttdm-report-empty-"));
    expect(() => loadReportData([empty])).toThrow(/no runs in .*expected run directories/);
    expect(() => loadReportData([join(empty, "nope")])).toThrow(QttdmError);
    expect(() => buildReport(loadReportData([root]), { baseline: "dqn", reps: 10 })).toThrow(/--baseline "dqn" is not one of the configs/);
    const r = qttdm(["report", root, "--format", "jpg"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--format "jpg": expected svg or png');
  });

  it("runs from the CLI into the first folder by default", () => {
    const dir = copyRuns();
    const r = qttdm(["report", dir]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`report: ${join(dir, "report.html")}`);
    expect(existsSync(join(dir, "report.html"))).toBe(true);
  });
});
