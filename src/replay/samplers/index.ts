/**
 * The samplers `replay.sampler` chooses from (the config's choices and their documentation come
 * from here): a file implementing Sampler and its entry below.
 */
import { PerSampler } from "./per.js";
import { ReaperSampler } from "./reaper.js";
import type { Sampler, SamplerParts } from "./types.js";
import { UniformSampler } from "./uniform.js";

export type { Sampler, SamplerParts } from "./types.js";
export { drawUniform } from "./uniform.js";

interface SamplerEntry {
  /** One phrase for the config docs. */
  describe: string;
  create(parts: SamplerParts): Sampler;
}

export const SAMPLERS = {
  uniform: { describe: "every stored transition equally likely", create: (p) => new UniformSampler(p.store) },
  per: { describe: "proportional PER (Schaul et al.)", create: (p) => new PerSampler(p) },
  reaper: { describe: "ReaPER+ annealed |δ|^α(t)·(1−ρ)^β(t)", create: (p) => new ReaperSampler(p) },
} satisfies Record<string, SamplerEntry>;

export type SamplerName = keyof typeof SAMPLERS;
