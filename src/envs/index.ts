/** The environment API; importing it registers every built-in environment. */
import "./box2d/index.js";
import "./mujoco/index.js";

export * from "./types.js";
export * from "./spaces.js";
export { registerEnv, envSpec, listEnvs, type EnvSpec } from "./registry.js";
export { makeEnv, type MakeSettings } from "./make.js";
export { TimeLimit } from "./wrappers.js";
export { VectorEnv, makeVectorEnv, type EpisodeRecord, type VectorInfo, type VectorResetResult, type VectorStepResult } from "./vector.js";
export { rollout, type RolloutOptions, type RolloutPolicy, type RolloutResult } from "./rollout.js";
export {
  LunarLander,
  heuristic,
  lunarLanderOptionsSchema,
  loadBox2D,
  wasmHeapProbe,
  type LunarLanderOptions,
  type LunarLanderResetData,
  type WasmHeapProbe,
} from "./box2d/index.js";
