import fs from "node:fs";
import path from "node:path";
import { FileFormatError } from "../core/errors.js";
import type { HistogramSummary } from "./histogram.js";
import { writeAll, type LogSink } from "./sink.js";

/**
 * `metrics.jsonl`: one JSON object per record, appended (a resumed run continues the same file).
 *   scalar:    {"step", "tag", "value", "wall_time"}            (NaN/±Inf are written as null)
 *   histogram: {"step", "tag", "histogram": {num, non_finite, min, max, mean, std, sum, sum_squares,
 *               bucket_limits, bucket_counts}, "wall_time"}    (buckets as in histogram.ts)
 *   text:      {"step", "tag", "text", "wall_time"}
 */
export class JsonlSink implements LogSink {
  readonly path: string;
  private fd: number | null;
  private pending: string[] = [];

  constructor(dir: string, fileName = "metrics.jsonl") {
    fs.mkdirSync(dir, { recursive: true });
    this.path = path.join(dir, fileName);
    this.fd = fs.openSync(this.path, "a");
  }

  scalar(tag: string, value: number, step: number, wallTime: number): void {
    this.push({ step, tag, value: Number.isFinite(value) ? value : null, wall_time: wallTime });
  }

  histogram(tag: string, h: HistogramSummary, step: number, wallTime: number): void {
    const mean = h.num > 0 ? h.sum / h.num : 0;
    // Population std from the running sums; clamped because rounding can make the variance slightly negative.
    const std = h.num > 0 ? Math.sqrt(Math.max(0, h.sumSquares / h.num - mean * mean)) : 0;
    const histogram = {
      num: h.num,
      non_finite: h.nonFinite,
      min: h.min,
      max: h.max,
      mean,
      std,
      sum: h.sum,
      sum_squares: h.sumSquares,
      bucket_limits: Array.from(h.bucketLimits),
      bucket_counts: Array.from(h.bucketCounts),
    };
    this.push({ step, tag, histogram, wall_time: wallTime });
  }

  text(tag: string, text: string, step: number, wallTime: number): void {
    this.push({ step, tag, text, wall_time: wallTime });
  }

  private push(record: object): void {
    if (this.fd === null) throw new FileFormatError(`JSONL log ${JSON.stringify(this.path)} is closed; cannot log to it`);
    this.pending.push(JSON.stringify(record) + "\n");
  }

  flush(): void {
    if (this.fd === null || this.pending.length === 0) return;
    const chunk = Buffer.from(this.pending.join(""), "utf8");
    this.pending = [];
    writeAll(this.fd, chunk);
  }

  close(): void {
    if (this.fd === null) return;
    this.flush();
    fs.closeSync(this.fd);
    this.fd = null;
  }
}
