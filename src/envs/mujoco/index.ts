/**
 * MuJoCo continuous-control environments with Gymnasium v5 semantics, on @mujoco/mujoco (WebAssembly).
 * Importing this module registers them; `makeEnv(id, options)` adds the TimeLimit of 1000 steps.
 * Options are Gymnasium's constructor arguments in camelCase (see each env's options schema).
 */
import { registerEnv } from "../registry.js";
import { HalfCheetahEnv, type HalfCheetahOptions } from "./half-cheetah.js";
import { HopperEnv, type HopperOptions } from "./hopper.js";
import { HumanoidEnv, type HumanoidOptions } from "./humanoid.js";
import { InvertedPendulumEnv, type InvertedPendulumOptions } from "./inverted-pendulum.js";
import { loadMujoco } from "./module.js";
import { Walker2dEnv, type Walker2dOptions } from "./walker2d.js";

export { MujocoEnv, mujocoCommonOptions, type MujocoEnvSetup } from "./mujoco-env.js";
export { loadMujoco, compileAsset, compileXml, readAsset, mujocoHeapProbe, ASSETS_URL, type MujocoModule } from "./module.js";
export { HumanoidEnv, humanoidOptionsSchema, type HumanoidOptions } from "./humanoid.js";
export { HopperEnv, hopperOptionsSchema, type HopperOptions } from "./hopper.js";
export { Walker2dEnv, walker2dOptionsSchema, type Walker2dOptions } from "./walker2d.js";
export { HalfCheetahEnv, halfCheetahOptionsSchema, type HalfCheetahOptions } from "./half-cheetah.js";
export { InvertedPendulumEnv, invertedPendulumOptionsSchema, type InvertedPendulumOptions } from "./inverted-pendulum.js";

registerEnv({
  id: "Humanoid-v5",
  description: "MuJoCo 3D biped walking forward (obs 348, action 17 in [-0.4, 0.4])",
  maxEpisodeSteps: 1000,
  create: async (options) => new HumanoidEnv(await loadMujoco(), options as HumanoidOptions),
});
registerEnv({
  id: "Hopper-v5",
  description: "MuJoCo planar one-legged hopper (obs 11, action 3 in [-1, 1])",
  maxEpisodeSteps: 1000,
  rewardThreshold: 3800,
  create: async (options) => new HopperEnv(await loadMujoco(), options as HopperOptions),
});
registerEnv({
  id: "Walker2d-v5",
  description: "MuJoCo planar biped walker (obs 17, action 6 in [-1, 1])",
  maxEpisodeSteps: 1000,
  create: async (options) => new Walker2dEnv(await loadMujoco(), options as Walker2dOptions),
});
registerEnv({
  id: "HalfCheetah-v5",
  description: "MuJoCo planar cheetah running forward (obs 17, action 6 in [-1, 1])",
  maxEpisodeSteps: 1000,
  rewardThreshold: 4800,
  create: async (options) => new HalfCheetahEnv(await loadMujoco(), options as HalfCheetahOptions),
});
registerEnv({
  id: "InvertedPendulum-v5",
  description: "MuJoCo cart-pole balancing (obs 4, action 1 in [-3, 3])",
  maxEpisodeSteps: 1000,
  rewardThreshold: 950,
  create: async (options) => new InvertedPendulumEnv(await loadMujoco(), options as InvertedPendulumOptions),
});
