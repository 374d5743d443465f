/** The sac agent as the registry knows it. */
import type { AgentDefinition } from "../registry.js";
import { SacAgent } from "./agent.js";
import { sacConfigSchema, type SacConfig } from "./config.js";

export const sacAgent: AgentDefinition<SacConfig> = {
  kind: "sac",
  description: "Soft Actor-Critic: twin critics with Polyak targets, tanh-squashed Gaussian policy, automatic entropy temperature (continuous actions)",
  schema: sacConfigSchema,
  actionSpaces: ["box"],
  create: (settings, spec, rng) => new SacAgent(settings, spec, rng),
  evalModes: () => ["greedy"],
};
