import { QttdmError, show } from "../core/errors.js";

/** The part of a writable stream the display needs (process.stdout fits). */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Steps the run will take in all. */
  total: number;
  /** Step the run starts from (a resumed run), so rates count only this session's steps. */
  start?: number;
  /** Prefix of every line. */
  label?: string;
  /** Default process.stdout. */
  stream?: ProgressStream;
  /** Milliseconds, monotonic (default performance.now). */
  now?: () => number;
  /** Redraw period of the single updating line on a TTY (default 250 ms, about 4 Hz). */
  ttyIntervalMs?: number;
  /** Period of plain lines when the stream is not a TTY (default 10 s). */
  plainIntervalMs?: number;
  /** Also print a plain line each time progress crosses a multiple of this percentage (default 0: off). */
  plainEveryPercent?: number;
  /** Steps/s and ETA are measured over about this recent window, so they follow changes of pace (default 30 s). */
  rateWindowMs?: number;
}

export interface ProgressUpdate {
  /** Latest finished training episode's return. */
  episodicReturn?: number;
  /** Latest evaluation's mean return. */
  evalReturn?: number;
}

const SAMPLES = 64;

/**
 * Progress of long work: steps done / total, steps/s, ETA, latest episodic and eval return.
 * On a TTY it redraws one line in place (carriage return, throttled); otherwise it prints a plain
 * line periodically, so CI logs and files stay readable.
 */
export class Progress {
  private readonly total: number;
  private readonly start: number;
  private readonly label: string;
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private readonly tty: boolean;
  private readonly interval: number;
  private readonly everyPercent: number;
  private readonly rateWindow: number;
  private step: number;
  private episodicReturn: number | undefined;
  private evalReturn: number | undefined;
  private lastDraw = -Infinity;
  private lastPercentMark: number;
  private drawnWidth = 0;
  // Ring of (time, step) samples, one per second at most, for the windowed rate.
  private readonly sampleT = new Float64Array(SAMPLES);
  private readonly sampleStep = new Float64Array(SAMPLES);
  private sampleCount = 0;
  private sampleHead = 0;
  private finished = false;

  constructor(options: ProgressOptions) {
    const { total } = options;
    if (!Number.isFinite(total) || total <= 0) throw new QttdmError(`Progress: total must be a positive number of steps, got ${show(total)}`);
    this.total = total;
    this.start = options.start ?? 0;
    this.step = this.start;
    this.label = options.label ?? "";
    this.stream = options.stream ?? process.stdout;
    this.now = options.now ?? (() => performance.now());
    this.tty = this.stream.isTTY === true;
    this.interval = this.tty ? (options.ttyIntervalMs ?? 250) : (options.plainIntervalMs ?? 10_000);
    this.everyPercent = options.plainEveryPercent ?? 0;
    this.rateWindow = options.rateWindowMs ?? 30_000;
    this.lastPercentMark = this.percentMark(this.start);
    this.sample(this.now());
  }

  /** Records progress; draws when the throttle allows. */
  update(step: number, info: ProgressUpdate = {}): void {
    this.step = step;
    if (info.episodicReturn !== undefined) this.episodicReturn = info.episodicReturn;
    if (info.evalReturn !== undefined) this.evalReturn = info.evalReturn;
    const t = this.now();
    const newest = this.sampleT[(this.sampleHead + SAMPLES - 1) % SAMPLES]!;
    if (t - newest >= 1000) this.sample(t);
    const mark = this.percentMark(step);
    const crossed = !this.tty && this.everyPercent > 0 && mark > this.lastPercentMark;
    if (crossed) this.lastPercentMark = mark;
    if (crossed || t - this.lastDraw >= this.interval) this.draw(t);
  }

  /** Prints a message without garbling the TTY line (clears it, prints, redraws). */
  log(line: string): void {
    if (this.tty && this.drawnWidth > 0 && !this.finished) {
      this.stream.write(`\r\x1b[K${line}\n`);
      this.draw(this.now());
    } else {
      this.stream.write(line + "\n");
    }
  }

  /** Draws the final state and ends the line. Idempotent. */
  finish(): void {
    if (this.finished) return;
    this.draw(this.now());
    if (this.tty) this.stream.write("\n");
    this.finished = true;
  }

  /** The status line for the current state (no carriage return, no newline). */
  line(t: number = this.now()): string {
    const rate = this.rate(t);
    const pct = (100 * this.step) / this.total;
    const parts = [
      `${this.label ? this.label + " " : ""}${fmtInt(this.step)}/${fmtInt(this.total)} (${pct.toFixed(1)}%)`,
      `${rate === null ? "-" : rate.toFixed(rate >= 100 ? 0 : 1)} steps/s`,
      `ETA ${rate === null || rate <= 0 ? "-" : fmtDuration(Math.max(0, this.total - this.step) / rate)}`,
    ];
    if (this.episodicReturn !== undefined) parts.push(`return ${fmtNum(this.episodicReturn)}`);
    if (this.evalReturn !== undefined) parts.push(`eval ${fmtNum(this.evalReturn)}`);
    return parts.join(" | ");
  }

  private draw(t: number): void {
    if (this.finished) return;
    this.lastDraw = t;
    let text = this.line(t);
    if (this.tty) {
      // Stay inside the terminal width: a wrapped line cannot be overwritten by "\r".
      const width = this.stream.columns ?? 0;
      if (width > 1 && text.length > width - 1) text = text.slice(0, width - 1);
      this.stream.write(`\r${text}\x1b[K`);
      this.drawnWidth = text.length;
    } else {
      this.stream.write(text + "\n");
    }
  }

  private sample(t: number): void {
    this.sampleT[this.sampleHead] = t;
    this.sampleStep[this.sampleHead] = this.step;
    this.sampleHead = (this.sampleHead + 1) % SAMPLES;
    if (this.sampleCount < SAMPLES) this.sampleCount++;
  }

  /** Steps/s since the oldest sample inside the window (the newest sample if none is); null before time passes. */
  private rate(t: number): number | null {
    let pick = (this.sampleHead + SAMPLES - 1) % SAMPLES;
    for (let k = this.sampleCount; k >= 1; k--) {
      const i = (this.sampleHead + SAMPLES - k) % SAMPLES;
      if (t - this.sampleT[i]! <= this.rateWindow) {
        pick = i;
        break;
      }
    }
    const dt = (t - this.sampleT[pick]!) / 1000;
    return dt > 0 ? (this.step - this.sampleStep[pick]!) / dt : null;
  }

  private percentMark(step: number): number {
    return this.everyPercent > 0 ? Math.floor((100 * step) / this.total / this.everyPercent) : 0;
  }
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1000 ? x.toFixed(0) : x.toFixed(2);
}

/** 42s, 3m05s, 2h07m, 3d04h. */
export function fmtDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, "0")}h`;
}
