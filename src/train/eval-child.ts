/**
 * The evaluation process of a distributed run (eval-process.ts): `node eval-child.js RUN_DIR`, started by the
 * learner. It builds the run's eval env and agent once, then answers each request in order: loads the agent
 * state the learner wrote, evaluates it, and sends the results back. It leaves when the learner does.
 */
import { readFileSync } from "node:fs";
import { selectBackend } from "../backend/index.js";
import { Rng } from "../core/rng.js";
import { decodeAgentState } from "../distributed/weights.js";
import { makeEnv } from "../envs/index.js";
import { createAgent, evalModes } from "./agents.js";
import type { EvalReply, EvalRequest } from "./eval-process.js";
import { evaluateModes } from "./evaluate.js";
import { readRunConfig } from "./run-dir.js";

const runDir = process.argv[2]!;
const config = readRunConfig(runDir);
await selectBackend(config.experiment.backend, config.experiment);
const env = await makeEnv(config.env.id, config.env.options);
// Streams apart from the trainer's (seed·4 + 1…4): a stochastic greedy mode draws from its own.
const agent = createAgent(config, env, new Rng(config.experiment.seed * 4 + 5), { restoring: true });
const rng = new Rng(config.experiment.seed * 4 + 6);
const modes = evalModes(config);
process.on("message", (req: EvalRequest) => {
  agent.load(decodeAgentState(readFileSync(req.path)));
  const reply: EvalReply = { step: req.step, results: evaluateModes(config, env, agent, modes, req.step, rng) };
  process.send!(reply);
});
process.on("disconnect", () => process.exit(0));
