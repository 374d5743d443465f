/**
 * Run directories: `runs/<env>__<exp>__<seed>__<timestamp>/` with the resolved config, metrics,
 * the TensorBoard event file, `checkpoints/` and `eval/`. An existing run is never overwritten:
 * the directory is created exclusively, and a numeric suffix is added on a name clash.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { configToYaml } from "../config/load.js";
import type { Config } from "../config/schema.js";

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

export function createRunDir(config: Config, now = new Date()): RunDir {
  const base = resolve(config.experiment.runsDir);
  mkdirSync(base, { recursive: true });
  const envName = config.env.id.replace(/[^A-Za-z0-9._-]/g, "_");
  const stem = `${envName}__${config.experiment.name}__${config.experiment.seed}__${timestamp(now)}`;
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
