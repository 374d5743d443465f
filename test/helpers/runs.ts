// Training runs as child processes, and what of a run directory must not depend on being interrupted.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.js";
import { train } from "../../src/train/trainer.js";
import { CLI } from "./cli.js";

/** A LunarLander DQN run small enough for a test: 300 steps of a 16-16 network on the cpu backend, no evals or checkpoints on the way. */
export const TINY_RUN = ["experiment.backend=cpu", "agent.network.hidden=[16, 16]", "train.learningStarts=100", "train.batchSize=16", "eval.episodes=1", "experiment.totalSteps=300", "eval.every=0", "checkpoint.every=0"];

/** Trains TINY_RUN (with `extra` overrides, on `preset`) in-process into a temporary folder; returns its run directory. */
export async function tinyRun(extra: readonly string[] = [], preset?: string): Promise<string> {
  const runs = mkdtempSync(join(tmpdir(), "qttdm-tiny-"));
  await train({ config: loadConfig({ config: preset, set: [...TINY_RUN, ...extra, `experiment.runsDir=${runs}`] }), progress: false, print: () => {} });
  return join(runs, readdirSync(runs)[0]!);
}

/** Starts `qttdm train ARGS` as a child, collecting its output. */
export function startTraining(args: string[]) {
  const child = spawn(process.execPath, [CLI, "train", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const out = { text: "" };
  child.stdout.on("data", (d) => (out.text += d));
  child.stderr.on("data", (d) => (out.text += d));
  // A child killed by a signal has no exit code: -1.
  const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
  return { child, out, exited };
}

export async function until(cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error("timed out waiting for the child");
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The one run directory in `runs`. */
export const onlyRun = (runs: string) => join(runs, readdirSync(runs).find((n) => !n.startsWith("."))!);

/** Env steps of the checkpoint `latest` names, or 0. */
export function latestStep(run: string): number {
  const p = join(run, "checkpoints", "latest");
  if (!existsSync(p)) return 0;
  return Number(readFileSync(p, "utf8").trim().slice("step-".length));
}

const WALL_CLOCK_TAGS = new Set(["charts/SPS", "charts/train_seconds", "planner/ms_per_action"]);

/** metrics.jsonl without what depends on the wall clock or the run's location. */
export function metricsOf(run: string): unknown[] {
  return readFileSync(join(run, "metrics.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .map(({ wall_time: _, ...r }) => (WALL_CLOCK_TAGS.has(r.tag as string) ? { ...r, value: "wall-clock" } : r))
    .map((r) => (r.tag === "run/config" ? { ...r, text: String(r.text).replace(/runsDir: .*\n/, "") } : r));
}
