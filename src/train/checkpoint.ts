/**
 * Checkpoints: one directory per checkpoint under `<run>/checkpoints/`, e.g. `step-000050000/`,
 * holding `trainer.json` (counters, RNG states, env positions, resolved config), one `.bin` file per
 * agent blob (weights, optimiser state) and optionally `replay.bin`.
 *
 * Atomicity: everything is written into a temporary sibling directory which is renamed into place
 * only when complete, then `latest` (a one-line pointer file) is replaced by rename. A crash at any
 * moment leaves either the previous checkpoint or the new one, never a half-written one.
 */
import { existsSync, fsyncSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { DivergenceError, FileFormatError } from "../core/errors.js";
import { nonFiniteValues } from "../nets/weights.js";
import type { AgentState } from "../agents/types.js";

export const CHECKPOINT_VERSION = 1;

export interface CheckpointContents {
  /** JSON-able trainer state: counters, RNG states, env positions, config. */
  trainer: Record<string, unknown>;
  agent: AgentState;
  /** Writes the replay snapshot to the given path (omitted when replay is not checkpointed). */
  writeReplay?: (path: string) => void | Promise<void>;
}

export interface LoadedCheckpoint {
  dir: string;
  trainer: Record<string, unknown>;
  agent: AgentState;
  /** Path of the replay snapshot, if the checkpoint has one. */
  replayPath: string | null;
}

/** The file in a checkpoints directory that names its newest checkpoint. */
const LATEST = "latest";

/** The checkpoint directory a `latest` pointer names (a sibling of the pointer). */
function followLatest(pointer: string): string {
  return join(dirname(pointer), readFileSync(pointer, "utf8").trim());
}

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(9, "0")}`;
}

/** The steps of the files `step-N<suffix>` in `dir` (named by checkpointName), in order; none when `dir` is missing. */
export function stepFiles(dir: string, suffix: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .flatMap((n) => {
      const m = n.endsWith(suffix) ? /^step-(\d+)$/.exec(n.slice(0, n.length - suffix.length)) : null;
      return m ? [Number(m[1])] : [];
    })
    .sort((a, b) => a - b);
}

/**
 * Weights with NaN or ±Inf make a checkpoint worthless (and "last good" a lie): written only when finite.
 * @throws DivergenceError naming the blob, the count and the first tensor with such a value
 */
function checkFiniteForSave(name: string, blobs: Record<string, Uint8Array>): void {
  for (const [blob, bytes] of Object.entries(blobs)) {
    const bad = nonFiniteValues(bytes, blob);
    if (bad.count > 0) throw new DivergenceError(`the agent's ${blob} weights hold ${bad.count} non-finite values (first in ${bad.first}); checkpoint ${name} was not written`);
  }
}

export async function saveCheckpoint(checkpointsDir: string, name: string, c: CheckpointContents): Promise<string> {
  checkFiniteForSave(name, c.agent.blobs);
  mkdirSync(checkpointsDir, { recursive: true });
  const final = join(checkpointsDir, name);
  // Temporary directories of saves that never finished (the process was killed); the run directory's lock
  // (run-lock.ts) makes every one of them stale.
  for (const n of readdirSync(checkpointsDir)) if (n.startsWith(".tmp-") || n.startsWith(".latest-")) rmSync(join(checkpointsDir, n), { recursive: true, force: true });
  const tmp = join(checkpointsDir, `.tmp-${name}-${process.pid}`);
  mkdirSync(tmp);
  for (const [blob, bytes] of Object.entries(c.agent.blobs)) writeDurable(join(tmp, `${blob}.bin`), bytes);
  if (c.writeReplay) await c.writeReplay(join(tmp, "replay.bin"));
  const manifest = {
    version: CHECKPOINT_VERSION,
    trainer: c.trainer,
    agentMeta: c.agent.meta,
    blobs: Object.keys(c.agent.blobs),
    replay: c.writeReplay ? "replay.bin" : null,
  };
  writeDurable(join(tmp, "trainer.json"), Buffer.from(JSON.stringify(manifest)));
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  const pointerTmp = join(checkpointsDir, `.latest-${process.pid}`);
  writeDurable(pointerTmp, Buffer.from(`${name}\n`));
  renameSync(pointerTmp, join(checkpointsDir, LATEST));
  return final;
}

/** Accepts a run directory, its checkpoints directory, its `latest` pointer, or one checkpoint directory. */
export function resolveCheckpointDir(path: string): string {
  if (!existsSync(path)) throw new FileFormatError(`checkpoint not found: ${path}`);
  if (!statSync(path).isDirectory()) {
    if (basename(path) === LATEST) return resolveCheckpointDir(dirname(path));
    throw new FileFormatError(`checkpoint ${path}: is a file; expected a run directory, its checkpoints directory, a step-* checkpoint directory or the "latest" pointer`);
  }
  if (existsSync(join(path, "trainer.json"))) return path;
  const dir = existsSync(join(path, "checkpoints")) ? join(path, "checkpoints") : path;
  const pointer = join(dir, LATEST);
  if (existsSync(pointer)) {
    const named = followLatest(pointer);
    if (existsSync(join(named, "trainer.json"))) return named;
  }
  // No pointer, or one naming a checkpoint that is gone: the newest complete one.
  const steps = readdirSync(dir).filter((n) => n.startsWith("step-") && existsSync(join(dir, n, "trainer.json"))).sort();
  if (steps.length === 0) throw new FileFormatError(`no checkpoint in ${dir}: expected a "latest" pointer or step-* directories holding trainer.json`);
  return join(dir, steps[steps.length - 1]!);
}

interface Manifest {
  version?: number;
  trainer?: Record<string, unknown>;
  agentMeta?: Record<string, unknown>;
  blobs?: string[];
  replay?: string | null;
}

function readManifest(dir: string): Manifest {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, "trainer.json"), "utf8"));
  } catch (e) {
    throw new FileFormatError(`checkpoint ${dir}: trainer.json is missing or not valid JSON (${(e as Error).message})`);
  }
  if (manifest === null || typeof manifest !== "object" || Array.isArray(manifest)) {
    throw new FileFormatError(`checkpoint ${dir}: trainer.json holds ${JSON.stringify(manifest)}; expected an object with version, trainer and blobs`);
  }
  if (manifest.blobs !== undefined && !(Array.isArray(manifest.blobs) && manifest.blobs.every((b) => typeof b === "string" && /^[\w-]+$/.test(b)))) {
    throw new FileFormatError(`checkpoint ${dir}: trainer.json field "blobs" is ${JSON.stringify(manifest.blobs).slice(0, 200)}; expected a list of blob names`);
  }
  if (manifest.version !== CHECKPOINT_VERSION) {
    throw new FileFormatError(`checkpoint ${dir}: format version ${manifest.version}, expected ${CHECKPOINT_VERSION}`);
  }
  return manifest;
}

/** Env steps of a run's latest checkpoint (reads only its trainer.json), or null when it has none. */
export function checkpointEnvSteps(runDir: string): number | null {
  let dir: string;
  try {
    dir = resolveCheckpointDir(join(runDir, "checkpoints"));
  } catch {
    return null;
  }
  const steps = readManifest(dir).trainer?.envSteps;
  return typeof steps === "number" ? steps : null;
}

export function loadCheckpoint(path: string): LoadedCheckpoint {
  const dir = resolveCheckpointDir(path);
  const manifest = readManifest(dir);
  const blobs: Record<string, Uint8Array> = {};
  for (const blob of manifest.blobs ?? []) {
    const file = join(dir, `${blob}.bin`);
    if (!existsSync(file)) throw new FileFormatError(`checkpoint ${dir}: missing ${basename(file)}`);
    blobs[blob] = new Uint8Array(readFileSync(file));
    const bad = nonFiniteValues(blobs[blob]!, file);
    if (bad.count > 0) {
      throw new FileFormatError(`checkpoint ${dir}: ${blob}.bin holds ${bad.count} non-finite values (first in ${bad.first}); the run had diverged when it was written. Expected finite weights: use an earlier checkpoint`);
    }
  }
  return {
    dir,
    trainer: manifest.trainer ?? {},
    agent: { blobs, meta: manifest.agentMeta ?? {} },
    replayPath: manifest.replay ? join(dir, manifest.replay) : null,
  };
}

function writeDurable(path: string, bytes: Uint8Array): void {
  writeFileSync(path, bytes);
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
