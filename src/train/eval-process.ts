/**
 * Evaluation in its own process, for distributed runs (replay.transport: redis), so that an evaluation never
 * stalls the learner. At an evaluation step the learner writes its agent state to `eval/pending/<step>.agent`
 * and goes on training; the child (eval-child.ts) loads it, runs the trainer's evaluation (evaluateModes: the
 * run's eval seeds and greedy modes) and sends the results back, which the learner logs at that step. Requests
 * are served in order. A pending file stays until its result is recorded, so a checkpoint written meanwhile
 * resumes with those evaluations (`pendingSteps`); a child that dies is restarted with the outstanding requests.
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentState, GreedyMode } from "../agents/types.js";
import { distModule, forkLogged } from "../bench/child.js";
import { QttdmError } from "../core/errors.js";
import { encodeAgentState } from "../distributed/weights.js";
import { checkpointName, stepFiles } from "./checkpoint.js";
import type { EvalResult } from "./evaluate.js";

/** What the child sends back for one request. */
export interface EvalReply {
  step: number;
  results: [GreedyMode, EvalResult][];
}

/** What the learner asks the child: evaluate the agent state in `path` as the evaluation of `step`. */
export interface EvalRequest {
  step: number;
  path: string;
}

/** Deaths of the child in a row, without a result in between, after which the run stops. */
const MAX_FAILED_STARTS = 3;

export class EvalProcess {
  private child: ChildProcess | null = null;
  /** Submitted steps without a result, in order. */
  private readonly outstanding: number[] = [];
  private failedStarts = 0;
  private stopping = false;
  private failure: QttdmError | null = null;
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(
    private readonly runDir: string,
    private readonly pendingDir: string,
    private readonly onResult: (reply: EvalReply) => void,
    private readonly say: (line: string) => void,
  ) {
    mkdirSync(pendingDir, { recursive: true });
  }

  private path(step: number): string {
    return join(this.pendingDir, `${checkpointName(step)}.agent`);
  }

  /** Steps whose evaluation was requested and has no recorded result (files left by an earlier session too). */
  pendingSteps(): number[] {
    return stepFiles(this.pendingDir, ".agent");
  }

  /** Drops a pending evaluation (one after the checkpoint a run resumes from: it is made again). */
  discard(step: number): void {
    rmSync(this.path(step), { force: true });
  }

  /** Evaluates `state` as the evaluation of `step`; the result arrives through onResult. */
  submit(step: number, state: AgentState): void {
    const path = this.path(step);
    writeFileSync(`${path}.tmp`, encodeAgentState(state));
    renameSync(`${path}.tmp`, path);
    this.resubmit(step);
  }

  /** Evaluates the pending file of `step` (written by submit, possibly in an earlier session). */
  resubmit(step: number): void {
    if (this.failure) throw this.failure;
    this.outstanding.push(step);
    this.send(step);
  }

  private send(step: number): void {
    if (!this.child) this.start();
    this.child!.send({ step, path: this.path(step) } satisfies EvalRequest);
  }

  private start(): void {
    // Its own process group, like the actors: a Ctrl-C meant for the learner must not cut an evaluation short.
    const child = forkLogged(distModule("train/eval-child.js"), [this.runDir], (line) => this.say(`evaluator: ${line}`), { detached: true });
    this.child = child;
    this.failedStarts += 1;
    child.on("message", (reply: EvalReply) => this.received(reply));
    this.say(`evaluation process: pid ${child.pid}`);
    child.once("exit", (code, signal) => {
      this.child = null;
      if (this.stopping) return;
      const how = signal ?? `code ${code}`;
      if (this.failedStarts >= MAX_FAILED_STARTS) {
        this.fail(new QttdmError(`the evaluation process exited ${this.failedStarts} times in a row (last: ${how}) before returning a result; its output is above`));
        return;
      }
      this.say(`evaluator (pid ${child.pid}) exited with ${how}; restarting it with ${this.outstanding.length} evaluation(s) outstanding`);
      for (const step of this.outstanding) this.send(step);
    });
  }

  private received(reply: EvalReply): void {
    this.failedStarts = 0;
    const i = this.outstanding.indexOf(reply.step);
    if (i < 0) return;
    this.outstanding.splice(i, 1);
    this.onResult(reply);
    this.discard(reply.step);
    if (this.outstanding.length === 0) for (const w of this.waiters.splice(0)) w.resolve();
  }

  private fail(err: QttdmError): void {
    this.failure = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  /** Resolves when every submitted evaluation is recorded. */
  drain(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.outstanding.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Stops the child by PID; evaluations still outstanding stay pending on disk. */
  async close(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    await exited;
  }
}
