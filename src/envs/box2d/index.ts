/** Registers the Box2D environments (LunarLander-v3 and its continuous variant, as Gymnasium does). */
import { registerEnv } from "../registry.js";
import { createLunarLander } from "./lunar-lander.js";

export { LunarLander, heuristic, createLunarLander, lunarLanderOptionsSchema, parseLunarLanderOptions } from "./lunar-lander.js";
export type { LunarLanderOptions, LunarLanderResetData } from "./lunar-lander.js";
export { loadBox2D, wasmHeapProbe } from "./loader.js";
export type { WasmHeapProbe } from "./loader.js";

registerEnv({
  id: "LunarLander-v3",
  description: "Gymnasium LunarLander-v3 on box2d-wasm: Discrete(4) (options: continuous, gravity, enableWind, windPower, turbulencePower)",
  maxEpisodeSteps: 1000,
  rewardThreshold: 200,
  create: (options) => createLunarLander("LunarLander-v3", options),
});

registerEnv({
  id: "LunarLanderContinuous-v3",
  description: "LunarLander-v3 with continuous: true (Box(-1, 1, [2]) main/side throttles)",
  maxEpisodeSteps: 1000,
  rewardThreshold: 200,
  create: (options) => createLunarLander("LunarLanderContinuous-v3", { continuous: true, ...options }),
});
