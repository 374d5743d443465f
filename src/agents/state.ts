/** Reading an agent's checkpointed state (agents/types.ts's AgentState). */
import { ConfigError } from "../core/errors.js";
import type { AgentState } from "./types.js";

/**
 * The weight blob `name` of a saved agent state.
 * @param hint appended to the error, e.g. what saved states hold this blob
 * @throws ConfigError naming the blobs the state has
 */
export function requireBlob(state: AgentState, name: string, hint = ""): Uint8Array {
  const blob = state.blobs[name];
  if (!blob) throw new ConfigError(`agent state has no "${name}" weights (has: ${Object.keys(state.blobs).join(", ")})${hint}`);
  return blob;
}
