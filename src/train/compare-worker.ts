/**
 * Worker-thread entry of `qttdm compare`: trains one run and reports its directory. A `{ stop: true }`
 * message (compare got SIGINT or SIGTERM) makes the run save a checkpoint and stop: the trainer stops
 * on SIGINT, which does not reach worker threads, so it is raised on this thread's `process` once the
 * trainer listens for it (it may still be setting up).
 */
import { parentPort, workerData } from "node:worker_threads";
import type { Config } from "../config/schema.js";
import { DivergenceError } from "../core/errors.js";
import { train } from "./trainer.js";

const { config, resume } = workerData as { config: Config; resume?: string };
let done = false;
let poll: NodeJS.Timeout | undefined;
const onMessage = (m: { stop?: boolean }) => {
  if (!m.stop || done || poll) return;
  const raise = () => {
    if (done || process.listenerCount("SIGINT") === 0) return;
    clearInterval(poll);
    process.emit("SIGINT", "SIGINT");
  };
  poll = setInterval(raise, 20);
  raise();
};
parentPort!.on("message", onMessage);
try {
  const summary = await train({ config, resume, progress: false, print: () => {} });
  parentPort!.postMessage({ runDir: summary.runDir, envSteps: summary.envSteps, interrupted: summary.interrupted });
} catch (err) {
  const runDir = err instanceof DivergenceError ? err.runDir : undefined;
  parentPort!.postMessage({ error: (err as Error).message, diverged: err instanceof DivergenceError, runDir });
} finally {
  done = true;
  clearInterval(poll);
  parentPort!.off("message", onMessage);
}
