import fs from "node:fs";
import path from "node:path";
import type { HistogramSummary } from "./histogram.js";
import { BufferedFile, type LogSink } from "./sink.js";

/**
 * `metrics.jsonl`: one JSON object per record, appended (a resumed run continues the same file).
 *   scalar:    {"step", "tag", "value", "wall_time"}            (NaN/±Inf are written as null)
 *   histogram: {"step", "tag", "histogram": {num, non_finite, min, max, mean, std, sum, sum_squares,
 *               bucket_limits, bucket_counts}, "wall_time"}    (buckets as in histogram.ts)
 *   text:      {"step", "tag", "text", "wall_time"}
 */
export class JsonlSink implements LogSink {
  private readonly file: BufferedFile;

  constructor(dir: string, fileName = "metrics.jsonl") {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, fileName);
    this.file = new BufferedFile(file, fs.openSync(file, "a"), "JSONL log");
  }

  get path(): string {
    return this.file.path;
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
    this.file.append(Buffer.from(JSON.stringify(record) + "\n", "utf8"));
  }

  flush(): void {
    this.file.flush();
  }

  close(): void {
    this.file.close();
  }
}
