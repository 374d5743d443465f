/** The dqn agent as the registry knows it. */
import { loadCheckpoint } from "../../train/checkpoint.js";
import type { AgentDefinition } from "../registry.js";
import { DqnAgent } from "./agent.js";
import { dqnConfigSchema, type DqnConfig } from "./config.js";

export const dqnAgent: AgentDefinition<DqnConfig> = {
  kind: "dqn",
  description: "Double DQN critic with ε-greedy exploration (discrete actions)",
  schema: dqnConfigSchema,
  actionSpaces: ["discrete"],
  create(settings, spec, rng) {
    const agent = new DqnAgent(settings, spec, rng);
    const init = settings.agent.encoderInit;
    if (init && !settings.restoring) agent.loadEncoder(loadCheckpoint(init).agent);
    return agent;
  },
  // With a weight-averaged greedy policy, the online critic's evaluation beside it makes every run a paired comparison.
  evalModes: (config) => (config.average.horizon === null ? ["greedy"] : ["greedy", "greedy-online"]),
};
