import fs from "node:fs";
import { FileFormatError, fileSystemError } from "../core/errors.js";
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
function writeAll(fd: number, data: Uint8Array): void {
  for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off, data.length - off);
}

/** The file half of a sink: encoded records wait in memory until `flush()` appends them in one write. */
export class BufferedFile {
  private pending: Uint8Array[] = [];

  /** @param what names the file in errors, e.g. "JSONL log". */
  constructor(
    readonly path: string,
    private fd: number | null,
    private readonly what: string,
  ) {}

  append(record: Uint8Array): void {
    if (this.fd === null) throw new FileFormatError(`${this.what} ${JSON.stringify(this.path)} is closed; cannot log to it`);
    this.pending.push(record);
  }

  flush(): void {
    if (this.fd === null || this.pending.length === 0) return;
    const chunk = Buffer.concat(this.pending);
    this.pending = [];
    try {
      writeAll(this.fd, chunk);
    } catch (e) {
      throw fileSystemError(e, `${this.what} ${this.path}`);
    }
  }

  close(): void {
    if (this.fd === null) return;
    this.flush();
    fs.closeSync(this.fd);
    this.fd = null;
  }
}
