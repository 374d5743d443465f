import fs from "node:fs";
import type { HistogramSummary } from "./histogram.js";

/**
 * A log destination. The `Logger` validates arguments, stamps the wall time (seconds since the epoch)
 * and summarises histograms once, then fans each record out to its sinks. Sinks buffer in memory and
 * write synchronously in `flush()`, so a flush from an exit handler loses nothing.
 */
export interface LogSink {
  scalar(tag: string, value: number, step: number, wallTime: number): void;
  histogram(tag: string, summary: HistogramSummary, step: number, wallTime: number): void;
  text(tag: string, text: string, step: number, wallTime: number): void;
  flush(): void;
  close(): void;
}

/** `fs.writeSync` may write less than asked; loop so a flush is all-or-error. */
export function writeAll(fd: number, data: Uint8Array): void {
  for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off, data.length - off);
}
