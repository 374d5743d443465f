/**
 * The environment registry: `makeEnv(id, options)` like `gymnasium.make`.
 * Environments register a factory (async, because wasm modules load asynchronously) plus the
 * defaults `gymnasium.make` would apply (time limit, reward threshold).
 */
import { EnvError } from "../core/errors.js";
import type { Env } from "./types.js";

export interface EnvSpec {
  id: string;
  /** One line for `qttdm env list`. */
  description: string;
  /** TimeLimit applied by makeEnv (Gymnasium's max_episode_steps); undefined for none. */
  maxEpisodeSteps?: number;
  rewardThreshold?: number;
  /** Builds the raw env (without the time limit). */
  create(options: Record<string, unknown>): Promise<Env>;
}

const specs = new Map<string, EnvSpec>();

export function registerEnv(spec: EnvSpec): void {
  specs.set(spec.id, spec);
}

export function envSpec(id: string): EnvSpec {
  const spec = specs.get(id);
  if (!spec) {
    throw new EnvError(`unknown environment id ${JSON.stringify(id)}; registered: ${[...specs.keys()].join(", ")}`);
  }
  return spec;
}

export function listEnvs(): EnvSpec[] {
  return [...specs.values()];
}
