/** Narrowing a loaded config's `agent` section to one kind, for tests that read kind-specific keys. */
import type { AgentConfig } from "../../src/agents/index.js";
import type { Config } from "../../src/config/schema.js";

export function agentOf<K extends AgentConfig["kind"]>(config: Config, kind: K): Extract<AgentConfig, { kind: K }> {
  if (config.agent.kind !== kind) throw new Error(`expected agent.kind ${kind}, got ${config.agent.kind}`);
  return config.agent as Extract<AgentConfig, { kind: K }>;
}

/** The sizes of a run that every AgentSettings needs besides the config sections. */
export const RUN_SIZES = { totalSteps: 1000, totalUpdates: 1000, learningStarts: 0, restoring: false } as const;
