// Faults injected for real (signals to a child process, /dev/full, a file where a directory belongs, damaged
// checkpoint files) against what a run must survive: issue "runs that survive anything".
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { DivergenceError, FileFormatError } from "../../src/core/errors.js";
import { decodeArrays, encodeArrays } from "../../src/nets/weights.js";
import { loadCheckpoint, resolveCheckpointDir, saveCheckpoint } from "../../src/train/checkpoint.js";
import { train } from "../../src/train/trainer.js";
import { qttdm } from "../helpers/cli.js";
import { latestStep, metricsOf, onlyRun, startTraining, until } from "../helpers/runs.js";
import { decodeEvent, readRecords } from "../logging/tfreader.js";

const tiny = ["experiment.backend=cpu", "agent.network.hidden=[16, 16]", "train.learningStarts=100", "train.batchSize=16", "eval.episodes=1"];
const sets = (xs: string[]) => xs.flatMap((s) => ["--set", s]);
const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `qttdm-${tag}-`));

/** The TensorBoard records of every event file of a run, as (step, tag) in file order. */
function eventsOf(run: string): string[] {
  return readdirSync(run)
    .filter((n) => n.startsWith("events.out.tfevents."))
    .sort()
    .flatMap((n) => readRecords(readFileSync(join(run, n))).map((r) => decodeEvent(r)))
    .filter((e) => e.tag !== undefined)
    .map((e) => `${e.step} ${e.tag}`);
}

describe("signals", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("%s saves a checkpoint and exits %i with a resume hint", async (signal, status) => {
    const runs = tmp("signal");
    const t = startTraining(sets([`experiment.runsDir=${runs}`, "experiment.totalSteps=1000000", "eval.every=0", ...tiny]));
    await until(() => t.out.text.includes("run directory:"));
    await new Promise((r) => setTimeout(r, 1000));
    t.child.kill(signal);
    expect(await t.exited).toBe(status);
    expect(t.out.text).toContain("resume with: npx qttdm train --resume");
    expect(latestStep(onlyRun(runs))).toBeGreaterThan(0);
  });

  it("after SIGKILL, the resumed run's metrics and TensorBoard records equal an uninterrupted run's", async () => {
    const cfg = ["experiment.totalSteps=2000", "checkpoint.every=500", "eval.every=1000", "logging.every=100", ...tiny];
    const whole = tmp("whole");
    expect(qttdm(["train", ...sets([`experiment.runsDir=${whole}`, ...cfg])]).status).toBe(0);

    const runs = tmp("killed");
    const t = startTraining(sets([`experiment.runsDir=${runs}`, ...cfg]));
    await until(() => readdirSync(runs).length > 0 && latestStep(onlyRun(runs)) >= 1000);
    // Past the checkpoint, so that metrics.jsonl and the event file hold records the resumed run replays.
    await new Promise((r) => setTimeout(r, 300));
    t.child.kill("SIGKILL");
    await t.exited;
    const run = onlyRun(runs);
    const r = qttdm(["train", "--resume", run]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(metricsOf(run)).toEqual(metricsOf(onlyRun(whole)));
    expect(eventsOf(run)).toEqual(eventsOf(onlyRun(whole)));
  });
});

describe("checkpoints hold finite weights", () => {
  const blob = (values: number[]) => encodeArrays(new Map([["params/w", { shape: [values.length], data: Float32Array.from(values) }]]));

  it("a checkpoint of non-finite weights is not written, and the previous one stays latest", async () => {
    const dir = tmp("nanckpt");
    await saveCheckpoint(dir, "step-000000100", { trainer: {}, agent: { blobs: { online: blob([1, 2]) }, meta: {} } });
    const err = await saveCheckpoint(dir, "step-000000200", { trainer: {}, agent: { blobs: { online: blob([1, Number.NaN, Infinity]) }, meta: {} } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DivergenceError);
    expect((err as Error).message).toContain("online weights hold 2 non-finite values (first in params/w)");
    expect(readdirSync(dir).filter((n) => n.startsWith("step-"))).toEqual(["step-000000100"]);
    expect(resolveCheckpointDir(dir)).toBe(join(dir, "step-000000100"));
  });

  it("a diverging run never names a checkpoint with non-finite weights as the last good one", async () => {
    const runs = tmp("diverge");
    const config = loadConfig({ set: [`experiment.runsDir=${runs}`, "experiment.totalSteps=400", "eval.every=0", "checkpoint.every=1", "agent.lr=1e38", ...tiny] });
    const err = await train({ config, progress: false, print: () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DivergenceError);
    const ckpts = join(onlyRun(runs), "checkpoints");
    for (const n of readdirSync(ckpts).filter((x) => x.startsWith("step-"))) expect(() => loadCheckpoint(join(ckpts, n)), n).not.toThrow();
  });

  it("loading one (eval, resume) is a one-line error naming the file", async () => {
    const runs = tmp("nanload");
    const config = loadConfig({ set: [`experiment.runsDir=${runs}`, "experiment.totalSteps=300", "eval.every=0", "checkpoint.every=0", ...tiny] });
    await train({ config, progress: false, print: () => {} });
    const run = onlyRun(runs);
    const ckpt = resolveCheckpointDir(run);
    const arrays = decodeArrays(readFileSync(join(ckpt, "online.bin"))).arrays;
    arrays.values().next().value!.data[3] = Number.NaN;
    writeFileSync(join(ckpt, "online.bin"), encodeArrays(arrays));
    expect(() => loadCheckpoint(run)).toThrow(FileFormatError);
    for (const args of [["eval", "--checkpoint", run], ["train", "--resume", run, "--set", "experiment.totalSteps=600"]]) {
      const r = qttdm(args);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain("online.bin holds 1 non-finite values");
    }
  });
});

describe("resuming", () => {
  it("an empty or bare --resume is an error, not a new run", () => {
    const runs = tmp("emptyresume");
    for (const args of [["--resume", ""], ["--resume"]]) {
      const r = qttdm(["train", ...args, "--set", `experiment.runsDir=${runs}`]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain("--resume: got an empty path");
    }
    expect(readdirSync(runs)).toEqual([]);
  });

  it("applies overrides of how long and how it logs, records them, and refuses the rest", async () => {
    const runs = tmp("overrides");
    const config = loadConfig({ set: [`experiment.runsDir=${runs}`, "experiment.totalSteps=300", "eval.every=0", "checkpoint.every=0", ...tiny] });
    await train({ config, progress: false, print: () => {} });
    const run = onlyRun(runs);
    const finished = qttdm(["train", "--resume", run]);
    expect(finished.status).toBe(2);
    expect(finished.stderr).toContain("finished at step 300 (experiment.totalSteps 300); expected a larger experiment.totalSteps");
    const bad = qttdm(["train", "--resume", run, "--set", "agent.lr=0.1", "--set", "eval.episodes=2"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`--set "agent.lr" cannot change a resumed run`);
    const withConfig = qttdm(["train", "--resume", run, "--config", "lunarlander/dqn-per"]);
    expect(withConfig.status).toBe(2);
    expect(withConfig.stderr).toContain("cannot be combined with --resume");
    const printed = qttdm(["train", "--resume", run, "--print-config", "--set", "experiment.totalSteps=500"]);
    expect(printed.status).toBe(0);
    expect(printed.stdout).toMatch(/totalSteps: 500/);
    expect(printed.stdout).toContain(`runsDir: ${runs}`);
    const longer = qttdm(["train", "--resume", run, "--set", "experiment.totalSteps=500"]);
    expect(longer.status).toBe(0);
    expect(latestStep(run)).toBe(500);
    expect(readFileSync(join(run, "config.yaml"), "utf8")).toMatch(/totalSteps: 500/);
    expect(JSON.parse(readFileSync(join(run, "config-history.jsonl"), "utf8"))).toMatchObject({ step: 300, set: ["experiment.totalSteps=500"] });
  });

  it("one process at a time trains a run directory; a dead owner's lock is taken over", async () => {
    const runs = tmp("lock");
    const t = startTraining(sets([`experiment.runsDir=${runs}`, "experiment.totalSteps=1000000", "eval.every=0", "checkpoint.every=200", ...tiny]));
    await until(() => readdirSync(runs).length > 0 && latestStep(onlyRun(runs)) > 0);
    const run = onlyRun(runs);
    const second = qttdm(["train", "--resume", run]);
    expect(second.status).toBe(2);
    expect(second.stderr).toContain(`is being trained by PID ${t.child.pid}`);
    t.child.kill("SIGKILL");
    await t.exited;
    const r = qttdm(["train", "--resume", run, "--set", `experiment.totalSteps=${latestStep(run) + 100}`]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`taking over the stale lock of ${run} (PID ${t.child.pid} is not running)`);
    expect(existsSync(join(run, "lock"))).toBe(false);
  });

  it("a dangling latest falls back to the newest complete checkpoint; stale temporary saves are removed", async () => {
    const runs = tmp("dangling");
    const config = loadConfig({ set: [`experiment.runsDir=${runs}`, "experiment.totalSteps=400", "eval.every=0", "checkpoint.every=200", ...tiny] });
    await train({ config, progress: false, print: () => {} });
    const ckpts = join(onlyRun(runs), "checkpoints");
    rmSync(join(ckpts, "step-000000400"), { recursive: true });
    mkdirSync(join(ckpts, "step-000000300"));
    mkdirSync(join(ckpts, ".tmp-step-000000300-99999"));
    expect(resolveCheckpointDir(onlyRun(runs))).toBe(join(ckpts, "step-000000200"));
    const r = qttdm(["train", "--resume", onlyRun(runs), "--set", "experiment.totalSteps=600"]);
    expect(r.status).toBe(0);
    expect(readdirSync(ckpts).filter((n) => n.startsWith("."))).toEqual([]);
  });
});

describe("errors are one line, exit 2, and do not hide each other", () => {
  it("a runsDir that cannot exist, and an env the config cannot make, leave no stack and no empty run", () => {
    const dir = tmp("fs");
    writeFileSync(join(dir, "file"), "");
    const r = qttdm(["train", "--set", `experiment.runsDir=${join(dir, "file", "runs")}`, ...sets(tiny)]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^qttdm: ENOTDIR: not a directory, mkdir .*file\/runs/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    const runs = tmp("badenv");
    const env = qttdm(["train", "--set", `experiment.runsDir=${runs}`, "--set", "env.options.gravity=5", ...sets(tiny)]);
    expect(env.status).toBe(2);
    expect(readdirSync(runs)).toEqual([]);
  });

  it("eval prints its results before an output error (ENOSPC on /dev/full, a directory as --record)", async () => {
    const runs = tmp("evalout");
    const config = loadConfig({ set: [`experiment.runsDir=${runs}`, "experiment.totalSteps=200", "eval.every=0", "checkpoint.every=0", ...tiny] });
    await train({ config, progress: false, print: () => {} });
    for (const target of ["/dev/full", runs]) {
      if (target === "/dev/full" && !existsSync(target)) continue;
      const r = qttdm(["eval", "--checkpoint", onlyRun(runs), "--episodes", "1", "--record", target]);
      expect(r.status).toBe(2);
      expect(r.stdout).toContain("mean return");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/^qttdm: (ENOSPC|EISDIR)/);
    }
  });

  it("a full disk under the logs stops the run with that error, one line", async () => {
    if (!existsSync("/dev/full")) return;
    const runs = tmp("enospc");
    const config = loadConfig({ set: [`experiment.runsDir=${runs}`, "experiment.totalSteps=300", "eval.every=0", "checkpoint.every=0", "logging.tensorboard=false", ...tiny] });
    await train({ config, progress: false, print: () => {} });
    const run = onlyRun(runs);
    rmSync(join(run, "metrics.jsonl"));
    symlinkSync("/dev/full", join(run, "metrics.jsonl"));
    const r = qttdm(["train", "--resume", run, "--set", "experiment.totalSteps=600"]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^qttdm: cannot write JSONL log .*metrics\.jsonl: ENOSPC/);
  });

  it.each([
    ["null", "null", /trainer\.json holds null; expected an object/],
    ["missing fields", `{"version":1,"trainer":{"envSteps":5},"blobs":[]}`, /trainer\.json field "trainer\.updates"/],
    ["a negative counter", null, /trainer\.json field "trainer\.envSteps"/],
  ])("a damaged trainer.json (%s) is named, not a TypeError", async (_, contents, message) => {
    const runs = tmp("damaged");
    const config = loadConfig({ set: [`experiment.runsDir=${runs}`, "experiment.totalSteps=200", "eval.every=0", "checkpoint.every=0", ...tiny] });
    await train({ config, progress: false, print: () => {} });
    const run = onlyRun(runs);
    const file = join(resolveCheckpointDir(run), "trainer.json");
    if (contents === null) {
      const m = JSON.parse(readFileSync(file, "utf8"));
      m.trainer.envSteps = -5;
      writeFileSync(file, JSON.stringify(m));
    } else writeFileSync(file, contents);
    const r = qttdm(["train", "--resume", run, "--set", "experiment.totalSteps=400"]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it("qttdm eval refuses a damaged step in trainer.json before it plays, instead of reporting step 0", async () => {
    const runs = tmp("damagedstep");
    const config = loadConfig({ set: [`experiment.runsDir=${runs}`, "experiment.totalSteps=200", "eval.every=0", "checkpoint.every=0", ...tiny] });
    await train({ config, progress: false, print: () => {} });
    const run = onlyRun(runs);
    const file = join(resolveCheckpointDir(run), "trainer.json");
    const m = JSON.parse(readFileSync(file, "utf8"));
    m.trainer.envSteps = "200";
    writeFileSync(file, JSON.stringify(m));
    const r = qttdm(["eval", "--checkpoint", run, "--episodes", "1", "--save"]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/trainer\.json field "trainer\.envSteps" is "200"; expected a non-negative integer/);
    expect(existsSync(join(run, "eval", "held-out.json"))).toBe(false);
  });

  it("a garbage run config.yaml is named", async () => {
    const runs = tmp("garbagecfg");
    const config = loadConfig({ set: [`experiment.runsDir=${runs}`, "experiment.totalSteps=200", "eval.every=0", "checkpoint.every=0", ...tiny] });
    await train({ config, progress: false, print: () => {} });
    const run = onlyRun(runs);
    writeFileSync(join(run, "config.yaml"), "- just\n- a list\n");
    const r = qttdm(["train", "--resume", run, "--set", "experiment.totalSteps=400"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^qttdm: run config .*config\.yaml is damaged/);
  });
});
