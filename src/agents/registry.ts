/**
 * The agent registry, like the env registry: each agent kind registers its config schema, a
 * factory, the action spaces it acts in and the greedy modes a run evaluates. The `agent` config
 * section is the union of the registered schemas on `kind`, so a plug-in agent registered before a
 * config is loaded is configured, validated and documented like the built-in ones.
 */
import { z } from "zod";
import { ConfigError } from "../core/errors.js";
import type { Rng } from "../core/rng.js";
import type { Space } from "../envs/spaces.js";
import type { Agent, AgentEnvSpec, AgentSettings, GreedyMode } from "./types.js";

/** A schema of one kind's `agent` section: a strict object whose `kind` is `z.literal(kind)`. */
export type AgentSchema = z.ZodObject<{ kind: z.ZodLiteral<string> } & z.ZodRawShape>;

export interface AgentDefinition<C extends { kind: string } = { kind: string }> {
  kind: C["kind"];
  /** One line for docs and `qttdm --help`. */
  description: string;
  schema: AgentSchema;
  /** The action spaces (`Space.kind`) the agent acts in. */
  actionSpaces: readonly Space["kind"][];
  create(settings: AgentSettings<C>, spec: AgentEnvSpec, rng: Rng): Agent;
  /**
   * The greedy policies a run evaluates, the first being the policy of `eval/episodic_return`; each
   * further mode m is logged as `eval/<m without "greedy-">_episodic_return`.
   */
  evalModes(config: C): readonly GreedyMode[];
}

const definitions = new Map<string, AgentDefinition>();
let unionCache: z.ZodType | null = null;

export function registerAgent<C extends { kind: string }>(def: AgentDefinition<C>): void {
  const literal = def.schema.shape.kind;
  if (!(literal instanceof z.ZodLiteral) || literal.value !== def.kind) {
    throw new ConfigError(`registerAgent: the schema of agent kind ${JSON.stringify(def.kind)} must declare kind: z.literal(${JSON.stringify(def.kind)})`);
  }
  definitions.set(def.kind, def as unknown as AgentDefinition);
  unionCache = null;
}

export function agentDefinition(kind: string): AgentDefinition {
  const def = definitions.get(kind);
  if (!def) throw new ConfigError(`config key "agent.kind": got ${JSON.stringify(kind)}; expected one of ${listAgentKinds().map((k) => JSON.stringify(k)).join(", ")}`);
  return def;
}

export function listAgents(): AgentDefinition[] {
  return [...definitions.values()];
}

export function listAgentKinds(): string[] {
  return [...definitions.keys()];
}

/** The kinds other than `kind` whose schema declares the key `key` (for "accepted by agent.kind …" hints). */
export function kindsAccepting(key: string, except: string): string[] {
  return listAgents()
    .filter((d) => d.kind !== except && key in d.schema.shape)
    .map((d) => d.kind);
}

/**
 * The `agent` section's schema: the union of the registered kinds on `kind`, which defaults to the
 * first registered kind (dqn) when the section leaves it out.
 */
export function agentUnionSchema(): z.ZodType {
  if (unionCache) return unionCache;
  const schemas = listAgents().map((d) => d.schema);
  if (schemas.length === 0) throw new ConfigError("no agent kinds are registered");
  const first = listAgentKinds()[0]!;
  const union = z.discriminatedUnion("kind", schemas as [AgentSchema, ...AgentSchema[]]);
  unionCache = z.preprocess((v) => (isPlainObject(v) && v.kind === undefined ? { ...v, kind: first } : v), union);
  return unionCache;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
