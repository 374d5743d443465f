import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { QttdmError } from "../../src/core/errors.js";
import { buildReport } from "../../src/report/build.js";
import { writeReport } from "../../src/report/index.js";
import { distinguishingKeys, loadReportData } from "../../src/report/runs.js";
import { evaluateCheckpoint } from "../../src/train/evaluate.js";
import { heldOutPath, readHeldOut } from "../../src/train/run-dir.js";
import { train } from "../../src/train/trainer.js";
import { qttdm } from "../helpers/cli.js";

const tiny = [
  "experiment.backend=cpu", "agent.network.hidden=[16, 16]", "train.learningStarts=100", "train.batchSize=16", "eval.episodes=1", "eval.every=250",
  "eval.heldOut.episodes=2", "experiment.totalSteps=1000", "checkpoint.every=0", "logging.every=100",
];
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
  it("labels clashing configs with as many keys as it takes to tell them apart", () => {
    // Issue 27's four dqn-reaper variants: no two of the three keys separate all four.
    const diff = [
      { key: "replay.bandit.progress", values: ['"td-loss"', '"td-loss"', '"td-loss"', '"eval"'] },
      { key: "replay.reliability", values: ['"td-spread"', '"episode"', '"td-spread"', '"td-spread"'] },
      { key: "replay.schedule", values: ['"fixed"', '"fixed"', '"bandit"', '"bandit"'] },
    ];
    expect(distinguishingKeys(diff).map((d) => d.key)).toEqual(["replay.bandit.progress", "replay.reliability", "replay.schedule"]);
    // One key that splits everything is enough, whatever comes before it in key order.
    const wide = [{ key: "a", values: ["1", "1", "2"] }, { key: "b", values: ["1", "2", "3"] }, { key: "c", values: ["1", "2", "2"] }];
    expect(distinguishingKeys(wide).map((d) => d.key)).toEqual(["b"]);
  });

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

  it("shows the held-out evaluation each run wrote at its end, and `qttdm eval --save` gives one to a run without", async () => {
    const runs = readdirSync(join(root, "runs")).sort().map((r) => join(root, "runs", r));
    const held = runs.map((r) => readHeldOut(r)!);
    for (const h of held) expect({ step: h.step, seed: h.seed, episodes: h.episodes, returns: h.returns.length }).toEqual({ step: 1000, seed: 2_000_000, episodes: 2, returns: 2 });
    const logged = readFileSync(join(runs[0]!, "metrics.jsonl"), "utf8").split("\n").filter((l) => l.includes('"eval/held_out_return"')).map((l) => JSON.parse(l));
    expect(logged.map((r) => [r.step, r.value])).toEqual([[1000, held[0]!.mean]]);
    // The trainer's held-out score is the final checkpoint's, played again on the same seeds.
    const again = await evaluateCheckpoint({ checkpoint: runs[0]!, episodes: 2, seed: 2_000_000 });
    expect(again.returns).toEqual(held[0]!.returns);

    const r = buildReport(loadReportData([root]), { reps: 200 });
    const table = r.tables.find((t) => t.title === "Held-out evaluation")!;
    expect(table.rows.map((row) => [row[0], row[1], row[6]])).toEqual([
      ['default (replay.sampler="per")', "2", held.slice(0, 2).map((h) => h.mean.toFixed(1)).join(", ")],
      ['default (replay.sampler="uniform")', "2", held.slice(2).map((h) => h.mean.toFixed(1)).join(", ")],
    ]);
    expect(table.note).toContain("over 2 episodes from seed 2000000");
    expect(r.tables.some((t) => t.title === 'Probability of improvement over default (replay.sampler="per") (held-out evaluation)')).toBe(true);
    expect(r.figures.map((f) => f.id)).toEqual(expect.arrayContaining(["held-out", "improvement-held-out"]));

    // One run lost its file, another's is damaged: the report says so and summarises the rest.
    const dir = copyRuns();
    const copies = readdirSync(join(dir, "runs")).sort().map((n) => join(dir, "runs", n));
    rmSync(heldOutPath(copies[0]!));
    writeFileSync(heldOutPath(copies[3]!), '{"step": 1000, "seed": 1000');
    const damaged = loadReportData([dir]);
    expect(damaged.warnings.join("\n")).toContain('default (replay.sampler="per"): 1 of 2 runs have no held-out evaluation (seeds 1); give each one with npx qttdm eval --checkpoint RUN --episodes 2 --seed 2000000 --save');
    expect(damaged.warnings.join("\n")).toMatch(/held-out\.json is not valid JSON .*; the run is left out of the held-out statistics/);
    expect(buildReport(damaged, { reps: 100 }).tables.find((t) => t.title === "Held-out evaluation")!.rows.map((row) => row[1])).toEqual(["1", "1"]);

    // --save plays the run's own eval.heldOut episodes and seeds unless told otherwise.
    const saved = qttdm(["eval", "--checkpoint", copies[0]!, "--save"]);
    expect(saved.status).toBe(0);
    expect(saved.stdout).toContain(`held-out evaluation written to ${heldOutPath(copies[0]!)}`);
    expect(readHeldOut(copies[0]!)).toEqual(held[0]);
    const online = qttdm(["eval", "--checkpoint", copies[0]!, "--save", "--online"]);
    expect(online.status).toBe(2);
    expect(online.stderr).toContain("expected --save without --online");
    const seen = qttdm(["eval", "--checkpoint", copies[0]!, "--save", "--seed", "999999", "--episodes", "3"]);
    expect(seen.status).toBe(2);
    expect(seen.stderr).toContain("seeds 999999..1000001 overlap the run's evaluation seeds 1000000..1000000; expected held-out seeds (default: its eval.heldOut.seed, 2000000)");
  });

  it("rejects what holds no runs, and a baseline that is not a config, with one clear line", () => {
    const empty = mkdtempSync(join(tmpdir(), "qttdm-report-empty-"));
    expect(() => loadReportData([empty])).toThrow(/no runs in .*expected run directories/);
    expect(() => loadReportData([join(empty, "nope")])).toThrow(QttdmError);
    expect(() => buildReport(loadReportData([root]), { baseline: "dqn", reps: 10 })).toThrow(/--baseline "dqn" is not one of the configs/);
    // Part of exactly one label names that config; part of several is refused, naming them.
    const partial = buildReport(loadReportData([root]), { baseline: "uniform", reps: 10 });
    expect(partial.tables.map((t) => t.title)).toContain('Probability of improvement over default (replay.sampler="uniform")');
    expect(() => buildReport(loadReportData([root]), { baseline: "default", reps: 10 })).toThrow(/--baseline "default" is part of 2 configs' labels \("default \(replay.sampler=\\"per\\"\)"/);
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
