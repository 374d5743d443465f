/** Worker-thread entry of `qttdm compare`: trains one run and reports its directory. */
import { parentPort, workerData } from "node:worker_threads";
import type { Config } from "../config/schema.js";
import { train } from "./trainer.js";

const { config } = workerData as { config: Config };
try {
  const summary = await train({ config, progress: false, print: () => {} });
  parentPort!.postMessage({ runDir: summary.runDir });
} catch (err) {
  parentPort!.postMessage({ error: (err as Error).message });
}
