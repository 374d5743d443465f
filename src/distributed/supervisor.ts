/**
 * Starts the learner's actor processes (`qttdm actor`, one per slot), restarts one that dies while the run
 * goes on, and stops them all by PID at the end. A slot's incarnation counts its restarts, so a restarted
 * actor gets fresh seeds and fresh episode ids.
 */
import type { ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { distModule, forkLogged } from "../bench/child.js";
import { QttdmError } from "../core/errors.js";

/** Consecutive deaths of one slot without a message in between after which the run stops. */
const MAX_FAILED_STARTS = 3;
const RESTART_DELAY_MS = 200;

interface Slot {
  child: ChildProcess | null;
  incarnation: number;
  /** Starts since this slot's actor last got a message through. */
  failedStarts: number;
}

export interface ActorExit {
  index: number;
  incarnation: number;
  pid: number;
  how: string;
}

export class Supervisor {
  private readonly slots: Slot[];
  private stopping = false;
  /** Set when a slot keeps failing: collect() throws it. */
  failure: QttdmError | null = null;
  restarts = 0;

  constructor(
    n: number,
    private readonly runDir: string,
    private readonly url: string,
    private readonly say: (line: string) => void,
    /** Called when an actor died unexpectedly, before it is restarted: returns the log line's detail. */
    private readonly onDeath: (exit: ActorExit) => string,
    firstIncarnation: number,
  ) {
    this.slots = Array.from({ length: n }, () => ({ child: null, incarnation: firstIncarnation, failedStarts: 0 }));
    for (let i = 0; i < n; i++) this.start(i);
  }

  /** The slot's actor got a message through: it started properly. */
  delivered(index: number): void {
    const slot = this.slots[index];
    if (slot) slot.failedStarts = 0;
  }

  get pids(): number[] {
    return this.slots.flatMap((s) => (s.child?.pid !== undefined && s.child.exitCode === null && s.child.signalCode === null ? [s.child.pid] : []));
  }

  private start(index: number): void {
    const slot = this.slots[index]!;
    const args = ["actor", "--run", this.runDir, "--redis", this.url, "--index", String(index), "--incarnation", String(slot.incarnation)];
    // detached: its own process group, so a Ctrl-C meant for the learner does not reach the actors; the
    // learner stops them itself, and the IPC channel tells them when the learner is gone.
    const child = forkLogged(distModule("cli/main.js"), args, this.say, { detached: true });
    slot.child = child;
    slot.failedStarts += 1;
    child.once("exit", (code, signal) => {
      slot.child = null;
      if (this.stopping) return;
      const how = signal ?? `code ${code}`;
      const detail = this.onDeath({ index, incarnation: slot.incarnation, pid: child.pid ?? -1, how });
      if (slot.failedStarts >= MAX_FAILED_STARTS) {
        this.failure = new QttdmError(`actor ${index} exited ${slot.failedStarts} times in a row (last: ${how}) before sending anything; its output is above`);
        return;
      }
      slot.incarnation += 1;
      this.restarts += 1;
      this.say(`actor ${index} (pid ${child.pid}) exited with ${how}: ${detail}; restarting it (incarnation ${slot.incarnation})`);
      setTimeout(() => !this.stopping && this.start(index), RESTART_DELAY_MS);
    });
  }

  /** Highest incarnation used so far + 1 (restarted runs continue the numbering). */
  get nextIncarnation(): number {
    return Math.max(0, ...this.slots.map((s) => s.incarnation)) + 1;
  }

  /** Waits up to `graceMs` for the actors to exit (the learner has set the stop key), then SIGTERM, then SIGKILL, by PID. */
  async stop(graceMs = 3_000): Promise<void> {
    this.stopping = true;
    const live = this.slots.map((s) => s.child).filter((c): c is ChildProcess => c !== null && c.exitCode === null && c.signalCode === null);
    const exited = (c: ChildProcess) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once("exit", () => resolve())));
    const all = Promise.all(live.map(exited));
    await Promise.race([all, sleep(graceMs, undefined, { ref: false })]);
    for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
    await Promise.race([all, sleep(2_000, undefined, { ref: false })]);
    for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await all;
  }
}
