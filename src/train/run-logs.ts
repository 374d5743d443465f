/**
 * Keeping a run's logs equal to its checkpoint. A checkpoint records the length of metrics.jsonl and of each
 * TensorBoard event file when it was written; resuming from it cuts every log back to that length and
 * deletes event files started after it (and evaluation results of later steps), so the records of steps replayed after a crash or a signal are
 * not written twice (a resumed run's logs equal an uninterrupted run's, wall-clock fields apart).
 */
import { existsSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import type { LogPosition } from "./trainer-state.js";
import { checkpointName, stepFiles } from "./checkpoint.js";

const METRICS = "metrics.jsonl";
const isEventFile = (name: string) => name.startsWith("events.out.tfevents.");

/** The run directory's log files and their current lengths (call after the logger flushed). */
export function logPositions(root: string): LogPosition[] {
  return readdirSync(root)
    .filter((name) => name === METRICS || isEventFile(name))
    .sort()
    .map((file) => ({ file, bytes: statSync(join(root, file)).size }));
}

/**
 * Cuts the logs of the run in `root` back to a checkpoint at env step `step`.
 * @param positions the checkpoint's log lengths; absent in checkpoints written before they were recorded,
 *   where metrics.jsonl is filtered to records at steps ≤ `step` instead (event files are left as they are)
 * @returns one line per change, for the user
 */
export function rollBackLogs(root: string, positions: readonly LogPosition[] | undefined, step: number): string[] {
  const notes: string[] = [];
  if (positions) {
    const known = new Map(positions.map((p) => [p.file, p.bytes]));
    for (const name of readdirSync(root).filter((n) => n === METRICS || isEventFile(n))) {
      const path = join(root, name);
      const bytes = known.get(name);
      if (bytes === undefined) {
        if (isEventFile(name)) {
          rmSync(path);
          notes.push(`removed ${name} (written after the checkpoint)`);
        }
        continue;
      }
      const size = statSync(path).size;
      if (size > bytes) {
        truncateSync(path, bytes);
        notes.push(`cut ${name} back to the checkpoint (${size - bytes} bytes of records after step ${step})`);
      } else if (size < bytes) {
        notes.push(`warning: ${name} is shorter than when the checkpoint was written (${size} < ${bytes} bytes); records were lost`);
      }
    }
  } else {
    const path = join(root, METRICS);
    if (existsSync(path)) {
      const lines = readFileSync(path, "utf8").split("\n").filter((l) => l.length > 0);
      const kept = lines.filter((l) => {
        try {
          return (JSON.parse(l) as { step?: number }).step! <= step;
        } catch {
          return false;
        }
      });
      if (kept.length < lines.length) {
        const tmp = `${path}.tmp-${process.pid}`;
        writeFileSync(tmp, kept.map((l) => `${l}\n`).join(""));
        renameSync(tmp, path);
        notes.push(`dropped ${lines.length - kept.length} records after step ${step} from ${METRICS}`);
      }
    }
  }
  const evalDir = join(root, "eval");
  const later = stepFiles(evalDir, ".json").filter((s) => s > step);
  for (const s of later) rmSync(join(evalDir, `${checkpointName(s)}.json`));
  if (later.length) notes.push(`removed ${later.length} evaluation results after step ${step}`);
  return notes;
}
