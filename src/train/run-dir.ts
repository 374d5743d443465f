/**
 * Run directories: `runs/<env>__<exp>__<seed>__<timestamp>/` with the resolved config, metrics,
 * the TensorBoard event file, `checkpoints/` and `eval/`. An existing run is never overwritten:
 * the directory is created exclusively, and a numeric suffix is added on a name clash.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import YAML from "yaml";
import { join, resolve } from "node:path";
import { configToYaml, validateConfig } from "../config/load.js";
import { QttdmError } from "../core/errors.js";
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

/** The resolved config a run was started with. */
export function readRunConfig(path: string): Config {
  return validateConfig(YAML.parse(readFileSync(join(runRootOf(path), "config.yaml"), "utf8")));
}
