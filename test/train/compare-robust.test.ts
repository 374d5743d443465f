// compare against what real use leaves behind: a damaged metrics.jsonl, an --out that is not its own,
// a comparison folder moved elsewhere, and Ctrl-C / SIGTERM in the middle of training.
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { QttdmError } from "../../src/core/errors.js";
import { checkpointEnvSteps } from "../../src/train/checkpoint.js";
import { compare, type CompareOptions } from "../../src/train/compare.js";
import { readMetricsFile } from "../../src/train/metrics-file.js";
import { CLI, qttdm } from "../helpers/cli.js";

const tiny = [
  "experiment.backend=cpu",
  "agent.network.hidden=[16, 16]",
  "train.learningStarts=100",
  "train.batchSize=16",
  "eval.every=200",
  "eval.episodes=1",
  "checkpoint.every=0",
];
const base = { configs: ["lunarlander/dqn-uniform"], seeds: 1, steps: 400, set: tiny, workers: 0 } satisfies Partial<CompareOptions>;
const cliArgs = (out: string, o: { configs?: string[]; steps?: number; set?: string[] } = {}) => [
  "compare",
  "--configs",
  ...(o.configs ?? base.configs),
  "--seeds",
  "1",
  "--steps",
  String(o.steps ?? base.steps),
  ...(o.set ?? tiny).flatMap((s) => ["--set", s]),
  "--out",
  out,
];

// One finished comparison, made once; every test works on its own copy.
let made: string;
beforeAll(async () => {
  made = join(mkdtempSync(join(tmpdir(), "qttdm-compare-made-")), "cmp");
  await compare({ ...base, out: made, print: () => {} });
}, 120_000);

function copyOfMade(): string {
  const out = join(mkdtempSync(join(tmpdir(), "qttdm-compare-copy-")), "cmp");
  cpSync(made, out, { recursive: true });
  return out;
}

function onlyRun(out: string): string {
  const [name] = readdirSync(join(out, "runs"));
  return join(out, "runs", name!);
}

describe("compare reads a damaged metrics.jsonl", () => {
  it("skips a garbage line and a truncated last line, names file and line, and summarises the rest", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "qttdm-compare-damaged-")), "cmp");
    await compare({ ...base, out, print: () => {} });
    const file = join(onlyRun(out), "metrics.jsonl");
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    lines[4] = '{"step": 20, "tag": "charts/epi'; // line 5: cut short mid-record
    writeFileSync(file, `${lines.join("\n")}\n\u0000\u0000garbage\n{"step":400,"tag":"charts/episodic_ret`); // a crash mid-write
    const n = lines.length;

    const warnings: string[] = [];
    const { summaries } = await compare({ ...base, out, summariseOnly: true, print: () => {}, warn: (l) => warnings.push(l) });
    expect(summaries[0]).toMatchObject({ runs: 1, unfinishedRuns: 0 });
    expect(summaries[0]!.finalScores.every(Number.isFinite)).toBe(true);
    expect(warnings).toHaveLength(3); // each bad line once, though compare reads the file more than once
    expect(warnings[0]).toContain(`line 5 of ${file}`);
    expect(warnings[1]).toContain(`line ${n + 1} of ${file}`);
    expect(warnings[2]).toContain(`line ${n + 2} of ${file}`);
    for (const w of warnings) expect(w).not.toContain("\n");

    // The command line: one line on stderr per bad line, and the summary is written.
    rmSync(join(out, "summary.md"));
    const r = qttdm([...cliArgs(out), "--summarise"]);
    expect(r.status).toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(3);
    expect(r.stderr).toContain(`line 5 of ${file}`);
    expect(existsSync(join(out, "summary.md"))).toBe(true);
  });

  it("readMetricsFile keeps the good records and reports records of the wrong shape", () => {
    const dir = mkdtempSync(join(tmpdir(), "qttdm-metrics-file-"));
    const file = join(dir, "metrics.jsonl");
    writeFileSync(file, '{"step":1,"tag":"a","value":2,"wall_time":0}\n\n[1,2]\n{"tag":"b","value":1}\n{"step":3,"tag":"c","value":null,"wall_time":1}\n{"st');
    const warnings: string[] = [];
    const recs = readMetricsFile(file, (l) => warnings.push(l));
    expect(recs.map((r) => r.tag)).toEqual(["a", "c"]);
    expect(warnings.map((w) => w.match(/line (\d+) of/)?.[1])).toEqual(["3", "4", "6"]);
    expect(readMetricsFile(join(dir, "none.jsonl"), () => {})).toEqual([]);
  });
});

describe("compare --out", () => {
  it("refuses a directory that holds other files, and leaves it as it was", async () => {
    const out = mkdtempSync(join(tmpdir(), "qttdm-compare-foreign-"));
    writeFileSync(join(out, "notes.txt"), "mine");
    const err = await compare({ ...base, out, print: () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QttdmError);
    expect((err as Error).message).toContain(out);
    expect((err as Error).message).toContain('"notes.txt"');
    expect((err as Error).message).toMatch(/expected a new or empty directory/);
    expect((err as Error).message).not.toContain("\n");
    expect(readdirSync(out)).toEqual(["notes.txt"]);

    const r = qttdm(cliArgs(out));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('"notes.txt"');
    expect(readdirSync(out)).toEqual(["notes.txt"]);
  });

  it("refuses a comparison of other configs, seeds, steps or overrides, and takes up the same one", async () => {
    const out = copyOfMade();
    expect(existsSync(join(out, "compare.json"))).toBe(true);
    const before = readFileSync(join(out, "summary.md"), "utf8");
    const refused = async (o: Partial<CompareOptions>, pattern: RegExp) => {
      const err = await compare({ ...base, out, summariseOnly: true, print: () => {}, ...o }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QttdmError);
      expect((err as Error).message).toMatch(pattern);
      expect((err as Error).message).toContain(join(out, "compare.json"));
    };
    await refused({ steps: 800 }, /steps 400, expected 800/);
    await refused({ set: [...tiny, "agent.gamma=0.9"] }, /set .*, expected .*agent\.gamma=0\.9/);
    await refused({ configs: ["lunarlander/dqn-uniform", "lunarlander/dqn-reaper"] }, /configs .*, expected .*dqn-reaper/);
    expect(readFileSync(join(out, "summary.md"), "utf8")).toBe(before);

    const lines: string[] = [];
    await compare({ ...base, out, print: (l) => lines.push(l) });
    expect(lines.some((l) => l.startsWith("  found lunarlander/dqn-uniform seed 1 at step 400/400"))).toBe(true);
    expect(lines.join("\n")).not.toContain("runs to train");
  });

  it("grows by seeds: a larger --seeds trains only the new seeds; a smaller one only summarises", async () => {
    const out = copyOfMade();
    const lines: string[] = [];
    const { summaries } = await compare({ ...base, seeds: 2, out, print: (l) => lines.push(l) });
    expect(lines.some((l) => l.startsWith("  found lunarlander/dqn-uniform seed 1 at step 400/400"))).toBe(true);
    expect(lines.some((l) => l.startsWith("compare: 1 of 2 runs to train"))).toBe(true);
    expect(summaries[0]).toMatchObject({ runs: 2, unfinishedRuns: 0 });
    expect(JSON.parse(readFileSync(join(out, "compare.json"), "utf8")).seeds).toBe(2);

    const err = await compare({ ...base, seeds: 1, out, print: () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QttdmError);
    expect((err as Error).message).toMatch(/a comparison of 2 seeds .*expected 1 \(--seeds\).*--summarise/);
    const first = await compare({ ...base, seeds: 1, out, summariseOnly: true, print: () => {} });
    expect(first.summaries[0]).toMatchObject({ runs: 1 });
    expect(JSON.parse(readFileSync(join(out, "compare.json"), "utf8")).seeds).toBe(2);
  });

  it("takes up a comparison written before compare.json (absolute run paths) when its runs match", async () => {
    const out = copyOfMade();
    rmSync(join(out, "compare.json"));
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    for (const run of summary.runs) run.runDir = join(made, run.runDir); // as older versions wrote it
    writeFileSync(join(out, "summary.json"), JSON.stringify(summary));
    const err = await compare({ ...base, steps: 800, out, summariseOnly: true, print: () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QttdmError);
    expect((err as Error).message).toContain("config.yaml");

    const { summaries } = await compare({ ...base, out, summariseOnly: true, print: () => {} });
    expect(summaries[0]).toMatchObject({ runs: 1, unfinishedRuns: 0 });
    expect(existsSync(join(out, "compare.json"))).toBe(true);
  });
});

describe("a moved comparison folder", () => {
  it("is summarised and taken up in its new place; summary.json holds run paths relative to it", async () => {
    const out = copyOfMade(); // its runs' config.yaml name the folder it was made in
    const lines: string[] = [];
    const { summaries } = await compare({ ...base, out, summariseOnly: true, print: (l) => lines.push(l) });
    expect(summaries[0]).toMatchObject({ runs: 1, unfinishedRuns: 0 });
    const runs = JSON.parse(readFileSync(join(out, "summary.json"), "utf8")).runs as { runDir: string }[];
    expect(runs[0]!.runDir).toBe(join("runs", readdirSync(join(out, "runs"))[0]!));
    expect(lines.join("\n")).toContain(onlyRun(out));

    const r = qttdm(cliArgs(out));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("found lunarlander/dqn-uniform seed 1 at step 400/400");
    expect(r.stdout).not.toContain("runs to train");
  });
});

describe("stopping compare", () => {
  // A run far longer than the test: it only ends through the signal. checkpoint.every=0: any checkpoint is the one the signal saved.
  const long = (out: string, workers: number) => [
    ...cliArgs(out, { configs: ["lunarlander/dqn-reaper"], steps: 1_000_000, set: [...tiny, "eval.every=1000"] }),
    "--workers",
    String(workers),
  ];

  async function interrupt(args: string[], out: string, signal: NodeJS.Signals, after: (text: string) => boolean) {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: "0" } });
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.stderr.on("data", (d) => (text += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, sig) => resolve({ code, signal: sig })));
    // Send the signal once the run is training: its metrics file exists and a second has passed.
    const started = () => {
      const runs = join(out, "runs");
      return existsSync(runs) && readdirSync(runs).some((r) => existsSync(join(runs, r, "metrics.jsonl"))) && after(text);
    };
    for (let i = 0; i < 600 && !started() && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1000));
    child.kill(signal);
    return { ...(await exited), text };
  }

  it("SIGINT: the running runs save a checkpoint, compare says how to resume and exits with 130; SIGTERM after resuming: 143", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "qttdm-compare-sigint-")), "cmp");
    const first = await interrupt(long(out, 1), out, "SIGINT", () => true);
    expect(first.text).not.toMatch(/error/i);
    expect(first.code).toBe(130);
    const run = onlyRun(out);
    const step = checkpointEnvSteps(run);
    expect(step).toBeGreaterThan(0);
    expect(first.text).toContain(`stopped lunarlander/dqn-reaper seed 1 at step ${step}`);
    expect(first.text).toMatch(/run the same command again with the same --out to resume: npx qttdm compare --configs lunarlander\/dqn-reaper .*--out /);
    expect(first.text).toContain("'agent.network.hidden=[16, 16]'");
    expect(existsSync(join(out, "summary.md"))).toBe(false);

    const second = await interrupt(long(out, 1), out, "SIGTERM", (t) => t.includes("1 resumed"));
    expect(second.code).toBe(143);
    expect(onlyRun(out)).toBe(run);
    expect(checkpointEnvSteps(run)).toBeGreaterThan(step!);
  });

  it("SIGTERM with --workers 0 (runs in the main thread) also saves the checkpoint", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "qttdm-compare-sigterm-")), "cmp");
    const r = await interrupt(long(out, 0), out, "SIGTERM", () => true);
    expect(r.code).toBe(143);
    expect(r.text).toContain("same --out to resume");
    expect(checkpointEnvSteps(onlyRun(out))).toBeGreaterThan(0);
  });
});
