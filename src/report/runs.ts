/**
 * What a report reads: run directories (config.yaml + metrics.jsonl), found under the paths given (a run, a
 * comparison folder, or any folder of runs), grouped into configs. Runs whose resolved configs agree apart from
 * the seed and where they were written (runsDir, logging, checkpoints) form one group; a comparison folder's
 * summary.json names its groups by the preset they came from. Anything missing or damaged becomes a warning that
 * the report shows, never a crash.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { Config } from "../config/schema.js";
import { QttdmError } from "../core/errors.js";
import { envSpec } from "../envs/index.js";
import { readMetricsFile, type MetricRecord } from "../train/metrics-file.js";
import { readHeldOut, readRunConfig, type HeldOutResult } from "../train/run-dir.js";

/** A series of (env step, value) points in step order. */
export interface Series {
  step: number[];
  value: number[];
}

export interface RunData {
  dir: string;
  seed: number;
  config: Config;
  /** Greedy evaluations, with the training seconds spent when each was taken. */
  evals: Series & { seconds: number[] };
  /** Training episode returns at the step each episode ended. */
  returns: Series;
  /** Every other scalar tag of metrics.jsonl. */
  scalars: Map<string, Series>;
  /** The last env step the run logged. */
  lastStep: number;
  /** Its held-out evaluation (eval/held-out.json), if it has one. */
  heldOut: HeldOutResult | null;
}

export interface RunGroup {
  label: string;
  /** The config every run of the group shares (seed and output places aside), from its first run. */
  config: Config;
  runs: RunData[];
}

export interface ReportData {
  groups: RunGroup[];
  /** The env's reward threshold (null: the env has none; then sample efficiency is not reported). */
  threshold: number | null;
  env: string;
  /** Commands that reproduce the runs: the comparison's, or one train command per group. */
  commands: string[];
  warnings: string[];
}

/**
 * Keys that say where and how verbosely a run was written, not what it computed; and eval.heldOut, which is
 * measured after training (a run given one later with `qttdm eval --save` stays in its group).
 */
const PLACE_KEYS = ["experiment.seed", "experiment.runsDir", "logging", "checkpoint", "experiment.threads", "eval.heldOut"];

/** A config flattened to dotted keys (lists as JSON), without PLACE_KEYS. */
export function flatConfig(config: Config): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (node: unknown, path: string) => {
    if (PLACE_KEYS.some((k) => path === k || path.startsWith(`${k}.`))) return;
    if (node !== null && typeof node === "object" && !Array.isArray(node)) {
      const entries = Object.entries(node as Record<string, unknown>);
      if (entries.length === 0) out.set(path, "{}");
      for (const [k, v] of entries) walk(v, path ? `${path}.${k}` : k);
    } else out.set(path, JSON.stringify(node));
  };
  walk(config, "");
  return out;
}

/** Keys whose values differ between the groups' configs, with each group's value. */
export function configDiff(groups: readonly RunGroup[]): { key: string; values: string[] }[] {
  const flats = groups.map((g) => flatConfig(g.config));
  const keys = [...new Set(flats.flatMap((f) => [...f.keys()]))].sort();
  return keys
    .map((key) => ({ key, values: flats.map((f) => f.get(key) ?? "(absent)") }))
    .filter((d) => new Set(d.values).size > 1);
}

/**
 * Few of `diff`'s keys that still tell every group apart, for labels: greedily the key that splits the groups
 * into the most classes (ties: the first in key order). Groups have different configs, so all keys together do.
 */
export function distinguishingKeys(diff: readonly { key: string; values: string[] }[]): { key: string; values: string[] }[] {
  const n = diff[0]?.values.length ?? 0;
  const chosen: { key: string; values: string[] }[] = [];
  const classes = (keys: readonly { values: string[] }[]) =>
    new Set(Array.from({ length: n }, (_, i) => JSON.stringify(keys.map((k) => k.values[i])))).size;
  while (chosen.length < diff.length && classes(chosen) < n) {
    let best = diff.find((d) => !chosen.includes(d))!;
    for (const d of diff) if (!chosen.includes(d) && classes([...chosen, d]) > classes([...chosen, best])) best = d;
    chosen.push(best);
  }
  return diff.filter((d) => chosen.includes(d));
}

function isRunDir(dir: string): boolean {
  return existsSync(join(dir, "config.yaml")) && existsSync(join(dir, "metrics.jsonl"));
}

/** Run directories at or below `dir` (a run's own subfolders are not searched). */
function findRuns(dir: string, depth = 0): string[] {
  if (isRunDir(dir)) return [dir];
  if (depth >= 3) return [];
  return readdirSync(dir)
    .filter((n) => !n.startsWith("."))
    .sort()
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isDirectory())
    .flatMap((p) => findRuns(p, depth + 1));
}

/** Preset names of a comparison folder's runs, by run directory name (from its summary.json). */
function comparisonLabels(dir: string, warnings: string[]): Map<string, string> {
  const labels = new Map<string, string>();
  const file = join(dir, "summary.json");
  if (!existsSync(file)) return labels;
  try {
    const runs = (JSON.parse(readFileSync(file, "utf8")) as { runs?: { config?: unknown; runDir?: unknown }[] }).runs ?? [];
    for (const r of runs) if (typeof r.config === "string" && typeof r.runDir === "string") labels.set(basename(r.runDir), r.config);
  } catch (e) {
    warnings.push(`${file} is not readable JSON (${(e as Error).message}); its runs are labelled by experiment name`);
  }
  return labels;
}

/** The comparison's command, from its compare.json. */
function comparisonCommand(dir: string): string | null {
  const file = join(dir, "compare.json");
  if (!existsSync(file)) return null;
  try {
    const m = JSON.parse(readFileSync(file, "utf8")) as { configs: string[]; seeds: number; steps: number | null; set: string[] };
    const args = ["--configs", ...m.configs, "--seeds", String(m.seeds)];
    if (m.steps !== null) args.push("--steps", String(m.steps));
    for (const s of m.set) args.push("--set", `'${s}'`);
    return `npx qttdm compare ${args.join(" ")} --out ${dir}`;
  } catch {
    return null;
  }
}

function toSeries(recs: MetricRecord[]): Series {
  return { step: recs.map((r) => r.step), value: recs.map((r) => r.value as number) };
}

function readRun(dir: string, warnings: string[]): RunData | null {
  let config: Config;
  try {
    config = readRunConfig(dir);
  } catch (e) {
    warnings.push(`skipped ${dir}: ${(e as Error).message}`);
    return null;
  }
  const recs = readMetricsFile(join(dir, "metrics.jsonl"), (line) => warnings.push(line.replace(/^qttdm: /, "")));
  const byTag = new Map<string, MetricRecord[]>();
  let lastStep = 0;
  for (const r of recs) {
    lastStep = Math.max(lastStep, r.step);
    if (typeof r.value !== "number") continue;
    let list = byTag.get(r.tag);
    if (!list) byTag.set(r.tag, (list = []));
    list.push(r);
  }
  // Training seconds at each step: the last charts/train_seconds record at or before it.
  const clock = byTag.get("charts/train_seconds") ?? [];
  const secondsAt = (step: number) => {
    let s = 0;
    for (const r of clock) {
      if (r.step > step) break;
      s = r.value!;
    }
    return s;
  };
  const evalRecs = byTag.get("eval/episodic_return") ?? [];
  if (evalRecs.length === 0) warnings.push(`${dir} has no evaluations (eval/episodic_return) yet; it appears in the training panels only`);
  const scalars = new Map<string, Series>();
  for (const [tag, list] of byTag) if (tag !== "eval/episodic_return" && tag !== "charts/episodic_return") scalars.set(tag, toSeries(list));
  let heldOut: HeldOutResult | null = null;
  try {
    heldOut = readHeldOut(dir);
  } catch (e) {
    warnings.push(`${(e as Error).message}; the run is left out of the held-out statistics`);
  }
  return {
    dir,
    seed: config.experiment.seed,
    heldOut,
    config,
    evals: { ...toSeries(evalRecs), seconds: evalRecs.map((r) => secondsAt(r.step)) },
    returns: toSeries(byTag.get("charts/episodic_return") ?? []),
    scalars,
    lastStep,
  };
}

/**
 * Reads and groups the runs under `paths`.
 * @throws QttdmError when a path does not exist or holds no run at all
 */
export function loadReportData(paths: readonly string[]): ReportData {
  const warnings: string[] = [];
  const commands: string[] = [];
  const labelled: { run: RunData; label: string | null }[] = [];
  for (const p of paths) {
    const dir = resolve(p);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new QttdmError(`report: ${p} is not a directory; expected a run directory, a comparison folder or a folder of runs`);
    const runs = findRuns(dir);
    if (runs.length === 0) throw new QttdmError(`report: no runs in ${p}; expected run directories (config.yaml and metrics.jsonl) at or below it`);
    const labels = comparisonLabels(dir, warnings);
    const command = comparisonCommand(p);
    if (command) commands.push(command);
    for (const r of runs) {
      const run = readRun(r, warnings);
      if (run) labelled.push({ run, label: labels.get(basename(r)) ?? null });
    }
  }
  if (labelled.length === 0) throw new QttdmError(`report: none of the runs under ${paths.join(", ")} could be read (see the warnings above)`);

  // Group by what the runs computed; the label is the comparison's preset name or the experiment name.
  const groups: RunGroup[] = [];
  const keyOf = (c: Config) => JSON.stringify([...flatConfig(c)]);
  const keys: string[] = [];
  for (const { run, label } of labelled) {
    const key = keyOf(run.config);
    let i = keys.indexOf(key);
    if (i < 0) {
      keys.push(key);
      groups.push({ label: label ?? run.config.experiment.name, config: run.config, runs: [] });
      i = groups.length - 1;
    }
    groups[i]!.runs.push(run);
  }
  // Labels that clash get the keys that tell their configs apart.
  for (const label of new Set(groups.map((g) => g.label))) {
    const same = groups.filter((g) => g.label === label);
    if (same.length < 2) continue;
    const keys = distinguishingKeys(configDiff(same));
    same.forEach((g, i) => (g.label = `${label} (${keys.map((d) => `${d.key}=${d.values[i]}`).join(", ")})`));
  }
  for (const g of groups) {
    g.runs.sort((a, b) => a.seed - b.seed);
    const seeds = g.runs.map((r) => r.seed);
    if (new Set(seeds).size < seeds.length) warnings.push(`${g.label}: several runs share a seed (${seeds.join(", ")}); each counts as one run`);
    if (g.runs.length === 1) warnings.push(`${g.label} has one seed: its intervals are points, and nothing about it is significant`);
    const steps = g.config.experiment.totalSteps;
    const short = g.runs.filter((r) => r.lastStep < steps);
    if (short.length) warnings.push(`${g.label}: ${short.length} of ${g.runs.length} runs stopped before experiment.totalSteps ${steps} (seeds ${short.map((r) => r.seed).join(", ")}); their figures cover what they logged`);
  }
  heldOutWarnings(groups, warnings);
  const envs = [...new Set(groups.map((g) => g.config.env.id))];
  if (envs.length > 1) warnings.push(`the runs are on different envs (${envs.join(", ")}): their returns are not on one scale; the threshold is ${envs[0]}'s`);
  if (commands.length === 0) {
    for (const g of groups) commands.push(`npx qttdm train --config ${join(g.runs[0]!.dir, "config.yaml")} --set experiment.seed=S   # S = ${g.runs.map((r) => r.seed).join(", ")}`);
  }
  const env = envs[0]!;
  let threshold: number | null = null;
  try {
    threshold = envSpec(env).rewardThreshold ?? null;
  } catch {
    warnings.push(`${env} is not a registered env here: no reward threshold`);
  }
  return { groups, threshold, env, commands, warnings };
}

/** What makes held-out scores incomplete or not comparable: runs without one, a stale one, different seeds or episodes. */
function heldOutWarnings(groups: readonly RunGroup[], warnings: string[]): void {
  const all = groups.flatMap((g) => g.runs.filter((r) => r.heldOut !== null));
  if (all.length === 0) return;
  for (const g of groups) {
    const missing = g.runs.filter((r) => r.heldOut === null);
    if (missing.length) {
      const h = all[0]!.heldOut!;
      warnings.push(
        `${g.label}: ${missing.length} of ${g.runs.length} runs have no held-out evaluation (seeds ${missing.map((r) => r.seed).join(", ")}); ` +
          `give each one with npx qttdm eval --checkpoint RUN --episodes ${h.episodes} --seed ${h.seed} --save`,
      );
    }
    const stale = g.runs.filter((r) => r.heldOut !== null && r.heldOut.step < r.lastStep);
    if (stale.length) warnings.push(`${g.label}: the held-out evaluations of seeds ${stale.map((r) => r.seed).join(", ")} are of an earlier checkpoint than the run's last step`);
  }
  const settings = [...new Set(all.map((r) => `${r.heldOut!.episodes} episodes from seed ${r.heldOut!.seed}`))];
  if (settings.length > 1) warnings.push(`the held-out evaluations differ (${settings.join("; ")}): their scores are not on one footing`);
}
