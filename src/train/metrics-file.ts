/**
 * Reading a run's `metrics.jsonl` (format: logging/jsonl.ts) tolerantly: a run killed mid-write leaves
 * a truncated last line, and a damaged disk or an editor can leave garbage anywhere. Such a line is
 * skipped with one warning naming the file and the line; every good record is kept.
 */
import { existsSync, readFileSync } from "node:fs";
import { show } from "../core/errors.js";

/** One record of metrics.jsonl: a scalar (`value`, null for NaN/±Inf), a text or a histogram. */
export interface MetricRecord {
  step: number;
  tag: string;
  value?: number | null;
  text?: string;
  histogram?: Record<string, unknown>;
  wall_time: number;
}

/** The default warning: one line on stderr. */
export const warnOnStderr = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/**
 * The records of `file` in order ([] when it does not exist), skipping each line that is not a JSON
 * object with a numeric `step` and a string `tag`, with one `warn` call (one line) per skipped line.
 */
export function readMetricsFile(file: string, warn: (line: string) => void = warnOnStderr): MetricRecord[] {
  if (!existsSync(file)) return [];
  const records: MetricRecord[] = [];
  const lines = readFileSync(file, "utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    let rec: unknown;
    let problem: string | null = null;
    try {
      rec = JSON.parse(line);
    } catch {
      problem = `not JSON${i === lines.length - 1 ? " (a truncated last line?)" : ""}: ${show(line.length > 60 ? `${line.slice(0, 57)}...` : line)}`;
    }
    if (problem === null && !isRecord(rec)) problem = `got ${show(rec)}`;
    if (problem !== null) {
      warn(`qttdm: skipped line ${i + 1} of ${file}: ${problem}; expected one JSON object with a numeric "step" and a string "tag" per line`);
      continue;
    }
    records.push(rec as MetricRecord);
  }
  return records;
}

function isRecord(x: unknown): x is MetricRecord {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const r = x as Record<string, unknown>;
  return typeof r.step === "number" && Number.isFinite(r.step) && typeof r.tag === "string";
}
