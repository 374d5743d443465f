/** Builds the configured agent through the agent registry. */
import { agentDefinition, listAgents } from "../agents/registry.js";
import type { Agent, AgentEnvSpec, AgentSettings, GreedyMode } from "../agents/types.js";
import type { Config } from "../config/schema.js";
import { ConfigError } from "../core/errors.js";
import type { Rng } from "../core/rng.js";
import { updatesDue } from "./cadence.js";

export interface CreateAgentOptions {
  /** The weights are about to be loaded from a checkpoint (skips initialising them from other runs). */
  restoring?: boolean;
}

export function createAgent(config: Config, spec: AgentEnvSpec, rng: Rng, opts: CreateAgentOptions = {}): Agent {
  const def = agentDefinition(config.agent.kind);
  if (!def.actionSpaces.includes(spec.actionSpace.kind)) {
    const fits = listFitting(spec.actionSpace.kind);
    throw new ConfigError(
      `config key "agent.kind": got ${JSON.stringify(def.kind)}, which acts in ${def.actionSpaces.join(" or ")} action spaces, but ${config.env.id} has a ${spec.actionSpace.kind} one; expected ${fits}`,
    );
  }
  const settings: AgentSettings = {
    agent: config.agent,
    disrc: config.disrc,
    totalSteps: config.experiment.totalSteps,
    totalUpdates: updatesDue(0, config.experiment.totalSteps, config.train),
    batchSize: config.train.batchSize,
    learningStarts: config.train.learningStarts,
    restoring: opts.restoring ?? false,
  };
  return def.create(settings, spec, rng);
}

/** The greedy policies a run of this config evaluates (the first one is `eval/episodic_return`'s). */
export function evalModes(config: Config): readonly GreedyMode[] {
  return agentDefinition(config.agent.kind).evalModes(config.agent);
}

function listFitting(kind: AgentEnvSpec["actionSpace"]["kind"]): string {
  const kinds = listAgents().filter((d) => d.actionSpaces.includes(kind)).map((d) => JSON.stringify(d.kind));
  return kinds.length ? `one of ${kinds.join(", ")}` : "an agent registered for it";
}
