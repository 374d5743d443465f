/** Builds the configured agent. */
import type { Config } from "../config/schema.js";
import { ConfigError } from "../core/errors.js";
import type { Rng } from "../core/rng.js";
import type { Agent, AgentEnvSpec, AgentSettings } from "../agents/types.js";
import { DqnAgent } from "../agents/dqn/agent.js";
import { QttdmAgent } from "../agents/qttdm/agent.js";
import { updatesDue } from "./cadence.js";
import { loadCheckpoint } from "./checkpoint.js";

export function createAgent(config: Config, spec: AgentEnvSpec, rng: Rng): Agent {
  const settings: AgentSettings = {
    agent: config.agent,
    disrc: config.disrc,
    totalSteps: config.experiment.totalSteps,
    totalUpdates: updatesDue(0, config.experiment.totalSteps, config.train),
    batchSize: config.train.batchSize,
  };
  if (config.agent.kind === "qttdm") {
    if (config.agent.encoderInit) throw new ConfigError(`config key "agent.encoderInit": not supported for agent.kind qttdm; expected null`);
    return new QttdmAgent(settings, spec, rng);
  }
  const dqn = new DqnAgent(settings, spec, rng);
  if (config.agent.encoderInit) dqn.loadEncoder(loadCheckpoint(config.agent.encoderInit).agent);
  return dqn;
}

