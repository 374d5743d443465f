import { expect, it } from "vitest";

it("the package entry point (dist/index.js) exposes the main API", async () => {
  const api = await import("../dist/index.js");
  for (const name of ["makeEnv", "makeVectorEnv", "ReplayBuffer", "Adam", "Logger", "DqnAgent", "QttdmAgent", "SacAgent", "registerAgent", "listAgents", "train", "compare", "loadConfig", "Rng", "NumpyGenerator"]) {
    expect(api, name).toHaveProperty(name);
  }
});
