/**
 * Child process of `bench learner`: `node dist/bench/learner-child.js <backend> [--quick] [--profile]` measures
 * one backend and sends its figures to the parent over IPC (run by hand, it prints them as the last line);
 * progress lines go to stdout.
 */
import type { BackendChoice } from "../backend/index.js";
import { measureLearner } from "./learner.js";

const [backend, ...flags] = process.argv.slice(2);
const figures = await measureLearner(backend as BackendChoice, {
  quick: flags.includes("--quick"),
  profile: flags.includes("--profile"),
  log: (line) => process.stdout.write(`${line}\n`),
});
// Disconnecting once the message is out lets the process exit; the open IPC channel would keep it alive.
if (process.send) process.send(figures, () => process.disconnect());
else process.stdout.write(`${JSON.stringify(figures)}\n`);
