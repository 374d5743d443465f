/** `makeEnv(id, options)`: Gymnasium's `gymnasium.make`, with the registry's time limit applied. */
import { ConfigError, show } from "../core/errors.js";
import { envSpec } from "./registry.js";
import type { Env } from "./types.js";
import { TimeLimit } from "./wrappers.js";

export interface MakeSettings {
  /** Overrides the registered episode step limit; `null` removes the limit. */
  maxEpisodeSteps?: number | null;
}

export async function makeEnv(id: string, options: Record<string, unknown> = {}, settings: MakeSettings = {}): Promise<Env> {
  const spec = envSpec(id);
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ConfigError(`${id}: options must be an object of named settings, got ${show(options)}`);
  }
  const limit = settings.maxEpisodeSteps === undefined ? spec.maxEpisodeSteps : settings.maxEpisodeSteps;
  if (limit !== null && limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new ConfigError(`${id}: maxEpisodeSteps must be a positive integer or null, got ${show(limit)}`);
  }
  const env = await spec.create(options);
  return limit ? new TimeLimit(env, limit, spec.rewardThreshold) : env;
}
