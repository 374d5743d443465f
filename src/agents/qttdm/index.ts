/** The qttdm agent as the registry knows it. */
import type { AgentDefinition } from "../registry.js";
import { QttdmAgent } from "./agent.js";
import { qttdmConfigSchema, type QttdmConfig } from "./config.js";

export const qttdmAgent: AgentDefinition<QttdmConfig> = {
  kind: "qttdm",
  description: "Transformer Dynamics Model + autoregressive Q-Transformer (+ DQN critic for discrete actions), MPPI planning",
  schema: qttdmConfigSchema,
  actionSpaces: ["discrete", "box"],
  create: (settings, spec, rng) => new QttdmAgent(settings, spec, rng),
  evalModes: () => ["greedy"],
};
