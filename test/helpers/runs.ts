// Training runs as child processes, and what of a run directory must not depend on being interrupted.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { CLI } from "./cli.js";

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

/** metrics.jsonl without what depends on the wall clock or the run's location. */
export function metricsOf(run: string): unknown[] {
  return readFileSync(join(run, "metrics.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .map(({ wall_time: _, ...r }) => (r.tag === "charts/SPS" || r.tag === "charts/train_seconds" ? { ...r, value: "wall-clock" } : r))
    .map((r) => (r.tag === "run/config" ? { ...r, text: String(r.text).replace(/runsDir: .*\n/, "") } : r));
}
