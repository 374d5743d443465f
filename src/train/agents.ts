/** Builds the configured agent. */
import type { Config } from "../config/schema.js";
import { QttdmError } from "../core/errors.js";
import type { Rng } from "../core/rng.js";
import type { Agent, AgentEnvSpec } from "../agents/types.js";
import { DqnAgent } from "../agents/dqn/agent.js";
import { loadCheckpoint } from "./checkpoint.js";

export function createAgent(config: Config, spec: AgentEnvSpec, rng: Rng): Agent {
  if (config.agent.kind !== "dqn") {
    throw new QttdmError(`agent.kind "${config.agent.kind}" is not implemented yet; use "dqn"`);
  }
  const dqn = new DqnAgent({ agent: config.agent, disrc: config.disrc, totalSteps: config.experiment.totalSteps, batchSize: config.train.batchSize }, spec, rng);
  if (config.agent.encoderInit) dqn.loadEncoder(loadCheckpoint(config.agent.encoderInit).agent);
  return dqn;
}
