/** Worker-thread entry of `qttdm compare`: trains one run and reports its directory. */
import { parentPort, workerData } from "node:worker_threads";
import type { Config } from "../config/schema.js";
import { DivergenceError } from "../core/errors.js";
import { train } from "./trainer.js";

const { config, resume } = workerData as { config: Config; resume?: string };
try {
  const summary = await train({ config, resume, progress: false, print: () => {} });
  parentPort!.postMessage({ runDir: summary.runDir });
} catch (err) {
  const runDir = err instanceof DivergenceError ? err.runDir : undefined;
  parentPort!.postMessage({ error: (err as Error).message, diverged: err instanceof DivergenceError, runDir });
}
