/**
 * The built-in agents, registered in the order `qttdm --help` and docs/configs.md list them; the
 * first (dqn) is the kind a config without `agent.kind` gets.
 */
import { dqnAgent } from "./dqn/index.js";
import type { DqnConfig } from "./dqn/config.js";
import { qttdmAgent } from "./qttdm/index.js";
import type { QttdmConfig } from "./qttdm/config.js";
import { registerAgent } from "./registry.js";
import { sacAgent } from "./sac/index.js";
import type { SacConfig } from "./sac/config.js";

registerAgent(dqnAgent);
registerAgent(qttdmAgent);
registerAgent(sacAgent);

/** The `agent` section of a built-in agent (a plug-in's section is its own schema's type). */
export type AgentConfig = DqnConfig | QttdmConfig | SacConfig;

export { agentDefinition, listAgents, registerAgent, type AgentDefinition } from "./registry.js";
