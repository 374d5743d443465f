/**
 * Run directories: `runs/<env>__<exp>__<seed>__<timestamp>/` with the resolved config, metrics,
 * the TensorBoard event file, `checkpoints/` and `eval/`. An existing run is never overwritten:
 * the directory is created exclusively, and a numeric suffix is added on a name clash.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { applyOverride, configToYaml, dropOtherKindsAgentKeys, parseConfigYaml, validateConfig } from "../config/load.js";
import { ConfigError, FileFormatError, QttdmError } from "../core/errors.js";
import type { Config } from "../config/schema.js";

/** Tag of the text record a run that stopped on divergence leaves in its metrics (the reason). */
export const DIVERGED_TAG = "run/diverged";

export interface RunDir {
  root: string;
  configPath: string;
  metricsPath: string;
  checkpointsDir: string;
  evalDir: string;
}

export function runDirPaths(root: string): RunDir {
  return {
    root,
    configPath: join(root, "config.yaml"),
    metricsPath: join(root, "metrics.jsonl"),
    checkpointsDir: join(root, "checkpoints"),
    evalDir: join(root, "eval"),
  };
}

/** `2026-11-25T09-30-00` (filesystem-safe, sorts chronologically). */
export function timestamp(date: Date): string {
  return date.toISOString().slice(0, 19).replace(/:/g, "-");
}

/** The part of a run directory's name before its timestamp: `<env>__<exp>__<seed>__`. */
export function runStem(config: Config): string {
  const envName = config.env.id.replace(/[^A-Za-z0-9._-]/g, "_");
  return `${envName}__${config.experiment.name}__${config.experiment.seed}__`;
}

export function createRunDir(config: Config, now = new Date()): RunDir {
  const base = resolve(config.experiment.runsDir);
  mkdirSync(base, { recursive: true });
  const stem = `${runStem(config)}${timestamp(now)}`;
  for (let attempt = 0; ; attempt++) {
    const root = join(base, attempt === 0 ? stem : `${stem}-${attempt}`);
    try {
      mkdirSync(root); // not recursive: fails if it exists, so two runs never share a directory
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw e;
    }
    const dir = runDirPaths(root);
    mkdirSync(dir.checkpointsDir);
    mkdirSync(dir.evalDir);
    writeFileSync(dir.configPath, configToYaml(config));
    return dir;
  }
}

/** The run directory that contains `path` (a run dir, its checkpoints dir, or one checkpoint). */
export function runRootOf(path: string): string {
  let p = path;
  for (let i = 0; i < 3; i++) {
    if (existsSync(join(p, "config.yaml"))) return p;
    p = join(p, "..");
  }
  throw new QttdmError(`no config.yaml found in ${path} or its parents; expected a run directory or a checkpoint inside one`);
}

/** The run's current config (as started, with the overrides of later sessions; see `resumeConfig`). */
export function readRunConfig(path: string): Config {
  return validateConfig(readRawRunConfig(join(runRootOf(path), "config.yaml")));
}

function readRawRunConfig(file: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = parseConfigYaml(readFileSync(file, "utf8"), file);
    if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) dropOtherKindsAgentKeys(raw as Record<string, unknown>);
    validateConfig(raw);
  } catch (e) {
    if (e instanceof QttdmError) {
      throw new FileFormatError(`run config ${file} is damaged: ${e.message.split("\n").join(" ")}`);
    }
    throw e;
  }
  return raw as Record<string, unknown>;
}

/**
 * Keys a resumed run may change: how long it runs, how it evaluates, checkpoints and logs, and, for a distributed
 * run, how many actors it starts, how often they get weights and which Redis server it uses. Everything else
 * shapes what the checkpoint holds (networks, replay, env) or what its numbers mean.
 */
export const RESUMABLE_KEYS: readonly string[] = [
  "experiment.totalSteps", "eval.*", "checkpoint.*", "logging.*", "distributed.actors", "distributed.weightSyncEvery", "redis.url",
];

function resumable(key: string): boolean {
  return RESUMABLE_KEYS.some((k) => (k.endsWith(".*") ? key.startsWith(k.slice(0, -1)) : key === k));
}

/**
 * The config a resumed run continues with: its config.yaml with `--set` overrides of RESUMABLE_KEYS.
 * @throws ConfigError naming every other key given
 */
export function resumeConfig(path: string, overrides: readonly string[]): Config {
  const raw = readRawRunConfig(join(runRootOf(path), "config.yaml"));
  const keys = overrides.map((a) => a.slice(0, Math.max(0, a.indexOf("="))).trim());
  const rejected = keys.filter((k) => !resumable(k));
  if (rejected.length) {
    throw new ConfigError(
      `--set ${rejected.map((k) => JSON.stringify(k)).join(", ")} cannot change a resumed run; expected only ${RESUMABLE_KEYS.join(", ")} (start a new run to change the rest)`,
    );
  }
  for (const a of overrides) applyOverride(raw, a);
  return validateConfig(raw);
}

/**
 * Makes a resumed run's overrides part of the run: config.yaml is replaced (atomically) by the new config and
 * `config-history.jsonl` gets a line with the step and the overrides.
 */
export function recordResumeOverrides(root: string, config: Config, step: number, overrides: readonly string[]): void {
  if (overrides.length === 0) return;
  const dir = runDirPaths(root);
  const tmp = `${dir.configPath}.tmp-${process.pid}`;
  writeFileSync(tmp, configToYaml(config));
  renameSync(tmp, dir.configPath);
  appendFileSync(join(root, "config-history.jsonl"), JSON.stringify({ step, set: overrides, time: new Date().toISOString() }) + "\n");
}

/**
 * A run's held-out evaluation (eval/held-out.json): its final policy, greedy, on seeds that no evaluation during
 * training saw (config eval.heldOut), so that no choice made while training (a bandit's, a best-checkpoint pick)
 * has seen the score.
 */
export interface HeldOutResult {
  /** Env steps of the checkpoint evaluated. */
  step: number;
  seed: number;
  episodes: number;
  returns: number[];
  lengths: number[];
  mean: number;
  std: number;
}

export function heldOutPath(root: string): string {
  return join(runDirPaths(root).evalDir, "held-out.json");
}

/** Writes the run's held-out evaluation atomically (a later one replaces it). */
export function writeHeldOut(root: string, result: HeldOutResult): void {
  const path = heldOutPath(root);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(result, null, 1));
  renameSync(tmp, path);
}

/**
 * The run's held-out evaluation, or null when it has none.
 * @throws FileFormatError when the file is there but is not one
 */
export function readHeldOut(root: string): HeldOutResult | null {
  const path = heldOutPath(root);
  if (!existsSync(path)) return null;
  let r: Partial<HeldOutResult>;
  try {
    r = JSON.parse(readFileSync(path, "utf8")) as Partial<HeldOutResult>;
  } catch (e) {
    throw new FileFormatError(`${path} is not valid JSON (${(e as Error).message}); expected a held-out evaluation`);
  }
  const ints = ["step", "seed", "episodes"] as const;
  const bad = ints.find((k) => !Number.isSafeInteger(r[k])) ?? (Array.isArray(r.returns) && r.returns.length === r.episodes && r.returns.every((x) => typeof x === "number") ? null : "returns");
  if (bad) throw new FileFormatError(`${path} has ${bad} ${JSON.stringify(r[bad])}; expected a held-out evaluation (step, seed, episodes and one return per episode)`);
  return r as HeldOutResult;
}
