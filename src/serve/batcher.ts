/**
 * Micro-batching: requests that arrive close together run as one policy call.
 *
 * A request waits at most `windowMs` for others, and only while others are on their way: the server counts the
 * requests to /act whose headers have arrived but which have not reached the batcher yet (body still arriving or
 * being parsed). When none is on its way, the queue runs at once (after the current I/O turn, so that requests
 * read from the sockets in the same turn join it), so a lone request pays no window; when the queue reaches
 * `maxBatch` rows it runs at once too. One policy call runs at a time; requests that arrive meanwhile (an ONNX
 * Runtime call runs off the event loop) form the next batch. `windowMs` 0 runs every request by itself.
 */
import type { PolicyOutput, ServePolicy } from "./policy.js";

interface Job {
  obs: Float32Array;
  n: number;
  at: number;
  resolve(out: PolicyOutput): void;
  reject(err: unknown): void;
}

export interface BatcherOptions {
  windowMs: number;
  maxBatch: number;
  /** Requests on their way to the batcher (see module doc); 0 when unknown. */
  arriving?: () => number;
  /** Called after each policy call. */
  onBatch?: (rows: number, requests: number, seconds: number) => void;
}

export class MicroBatcher {
  private queue: Job[] = [];
  private queuedRows = 0;
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private checkScheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly policy: ServePolicy,
    private readonly opts: BatcherOptions,
  ) {}

  /** Queues n observation rows; resolves with their actions and Q-values. */
  submit(obs: Float32Array, n: number): Promise<PolicyOutput> {
    return new Promise<PolicyOutput>((resolve, reject) => {
      this.queue.push({ obs, n, at: performance.now(), resolve, reject });
      this.queuedRows += n;
      this.schedule();
    });
  }

  /** Call when a request on its way left without reaching the batcher (an error reply), so a wait can end. */
  arrivalEnded(): void {
    if (this.queue.length > 0) this.scheduleCheck();
  }

  /** Number of requests queued or running. */
  get pending(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && !this.running) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private schedule(): void {
    if (this.queue.length === 0 || this.running) return;
    const { windowMs, maxBatch } = this.opts;
    if (windowMs <= 0 || this.queuedRows >= maxBatch) return void this.runNext();
    const waited = performance.now() - this.queue[0]!.at;
    if (waited >= windowMs) return void this.runNext();
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.running) void this.runNext();
      }, windowMs - waited);
    }
    this.scheduleCheck();
  }

  /** After this I/O turn: run the queue if no other request is on its way. */
  private scheduleCheck(): void {
    if (this.checkScheduled) return;
    this.checkScheduled = true;
    setImmediate(() => {
      this.checkScheduled = false;
      if (!this.running && this.queue.length > 0 && (this.opts.arriving?.() ?? 0) <= 0) void this.runNext();
    });
  }

  private async runNext(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.queue.length === 0 || this.running) return;
    // Whole requests, in arrival order, up to maxBatch rows (a larger request runs by itself).
    const { windowMs, maxBatch } = this.opts;
    let take = 1;
    let rows = this.queue[0]!.n;
    if (windowMs > 0) {
      while (take < this.queue.length && rows + this.queue[take]!.n <= maxBatch) rows += this.queue[take++]!.n;
    }
    const jobs = this.queue.splice(0, take);
    this.queuedRows -= rows;
    this.running = true;
    const t0 = performance.now();
    try {
      let obs: Float32Array;
      if (jobs.length === 1) obs = jobs[0]!.obs;
      else {
        obs = new Float32Array(rows * this.policy.obsDim);
        let off = 0;
        for (const j of jobs) {
          obs.set(j.obs, off);
          off += j.obs.length;
        }
      }
      const out = await this.policy.run(obs, rows);
      this.opts.onBatch?.(rows, jobs.length, (performance.now() - t0) / 1000);
      const k = this.policy.numActions;
      let r = 0;
      for (const j of jobs) {
        j.resolve(jobs.length === 1 ? out : { actions: out.actions.subarray(r, r + j.n), q: out.q.subarray(r * k, (r + j.n) * k) });
        r += j.n;
      }
    } catch (e) {
      for (const j of jobs) j.reject(e);
    } finally {
      this.running = false;
    }
    if (this.queue.length > 0) this.schedule();
    else {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }
}
