import { QttdmError, show } from "../core/errors.js";
import { summarizeHistogram } from "./histogram.js";
import { JsonlSink } from "./jsonl.js";
import type { LogSink } from "./sink.js";
import { TensorBoardSink } from "./tfevents.js";

export interface LoggerOptions {
  /** Also write a TensorBoard event file (default true); `metrics.jsonl` is always written. */
  tensorboard?: boolean;
  /** Flush buffered records at least this often, in seconds (default 2; 0 = only on flush/close/exit). */
  flushSeconds?: number;
  /** Flush on process exit and SIGINT/SIGTERM (default true). */
  exitHooks?: boolean;
  /** Wall clock in seconds since the epoch (tests inject a fake one). */
  clock?: () => number;
}

/** A logger that fans scalars, histograms and text out to its sinks. */
export class Logger {
  private readonly sinks: LogSink[];
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | null = null;
  private hooked = false;
  private closed = false;

  /** Writes to `dir`/metrics.jsonl and (unless disabled) `dir`/events.out.tfevents.*. */
  static open(dir: string, options: LoggerOptions = {}): Logger {
    const clock = options.clock ?? (() => Date.now() / 1000);
    const sinks: LogSink[] = [new JsonlSink(dir)];
    try {
      if (options.tensorboard ?? true) sinks.push(new TensorBoardSink(dir, clock()));
      return new Logger(sinks, options);
    } catch (err) {
      for (const s of sinks) s.close();
      throw err;
    }
  }

  constructor(sinks: LogSink[], options: LoggerOptions = {}) {
    this.sinks = sinks;
    this.clock = options.clock ?? (() => Date.now() / 1000);
    const flushSeconds = options.flushSeconds ?? 2;
    if (!(flushSeconds >= 0)) throw new QttdmError(`Logger: flushSeconds must be >= 0 (0 disables the timer), got ${show(flushSeconds)}`);
    if (flushSeconds > 0) {
      // unref: a pending flush must not keep a finished process alive.
      this.timer = setInterval(() => this.flush(), flushSeconds * 1000).unref();
    }
    if (options.exitHooks ?? true) {
      registerExitFlush(this);
      this.hooked = true;
    }
  }

  scalar(tag: string, value: number, step: number): void {
    this.check(tag, step);
    if (typeof value !== "number") throw new QttdmError(`Logger.scalar(${show(tag)}): value must be a number, got ${show(value)}`);
    const t = this.clock();
    for (const s of this.sinks) s.scalar(tag, value, step, t);
  }

  /** Logs every entry of `values` at `step` (e.g. the losses of one update). */
  scalars(values: Readonly<Record<string, number>>, step: number): void {
    for (const [tag, value] of Object.entries(values)) this.scalar(tag, value, step);
  }

  /** Summarises `values` once (TensorFlow's default buckets, see histogram.ts); non-finite values are counted apart. */
  histogram(tag: string, values: ArrayLike<number>, step: number): void {
    this.check(tag, step);
    if (values === null || typeof values !== "object" || typeof values.length !== "number") {
      throw new QttdmError(`Logger.histogram(${show(tag)}): values must be an array or typed array, got ${show(values)}`);
    }
    const summary = summarizeHistogram(values);
    const t = this.clock();
    for (const s of this.sinks) s.histogram(tag, summary, step, t);
  }

  text(tag: string, text: string, step: number): void {
    this.check(tag, step);
    if (typeof text !== "string") throw new QttdmError(`Logger.text(${show(tag)}): text must be a string, got ${show(text)}`);
    const t = this.clock();
    for (const s of this.sinks) s.text(tag, text, step, t);
  }

  /** Writes everything buffered so far (synchronously). */
  flush(): void {
    if (this.closed) return;
    for (const s of this.sinks) s.flush();
  }

  /** Flushes, closes the files, stops the timer and drops the exit hooks. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.hooked) unregisterExitFlush(this);
    for (const s of this.sinks) s.close();
  }

  private check(tag: string, step: number): void {
    if (this.closed) throw new QttdmError(`Logger: cannot log ${show(tag)} after close()`);
    if (typeof tag !== "string" || tag.length === 0) throw new QttdmError(`Logger: tag must be a non-empty string, got ${show(tag)}`);
    if (!Number.isSafeInteger(step) || step < 0) {
      throw new QttdmError(`Logger: step for ${show(tag)} must be a non-negative integer, got ${show(step)}`);
    }
  }
}

// One set of process handlers serves every open logger: installed with the first, removed with the last.
const openLoggers = new Set<Logger>();
const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** Flushes every open logger; what the exit and signal handlers run (exported for tests). */
export function flushOpenLoggers(): void {
  for (const logger of openLoggers) {
    try {
      logger.flush();
    } catch {
      // At exit there is nobody to report to; one broken sink must not stop the others from flushing.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  flushOpenLoggers();
  // A listener disables Node's default "exit on signal"; when ours is the only one, restore that
  // behaviour (exit status 128 + signo) by removing it and re-raising. Otherwise the application's
  // own handler decides what happens, and the logs are already safe.
  if (process.listenerCount(signal) === 1) {
    removeHandlers();
    process.kill(process.pid, signal);
  }
}

function installHandlers(): void {
  process.on("exit", flushOpenLoggers);
  for (const sig of SIGNALS) process.on(sig, onSignal);
}

function removeHandlers(): void {
  process.off("exit", flushOpenLoggers);
  for (const sig of SIGNALS) process.off(sig, onSignal);
}

function registerExitFlush(logger: Logger): void {
  if (openLoggers.size === 0) installHandlers();
  openLoggers.add(logger);
}

function unregisterExitFlush(logger: Logger): void {
  openLoggers.delete(logger);
  if (openLoggers.size === 0) removeHandlers();
}
