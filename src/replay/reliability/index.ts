/**
 * The reliability estimators `replay.reliability` chooses from (the config's choices and their
 * documentation come from here). Adding one: a file implementing ReliabilityEstimator, its entry
 * below, and its test (docs/algorithms.md, "Adding a reliability estimator").
 */
import { EnsembleEstimator } from "./ensemble.js";
import { EpisodeEstimator } from "./episode.js";
import { TdSpreadEstimator } from "./td-spread.js";
import type { EstimatorParts, ReliabilityEstimator } from "./types.js";

export type { EstimatorParts, ReliabilityEstimator, ReliabilityListener } from "./types.js";

interface EstimatorEntry {
  /** One phrase for the config docs. */
  describe: string;
  create(parts: EstimatorParts): ReliabilityEstimator;
}

export const ESTIMATORS = {
  "td-spread": { describe: "EMA of the TD error's change between re-evaluations, scaled to a standard deviation", create: (p) => new TdSpreadEstimator(p) },
  episode: { describe: "the ReaPER rule, the share of the episode's TD error after the transition", create: (p) => new EpisodeEstimator(p) },
  ensemble: { describe: "EMA of the tdStd the agent reports (TD-error spread across critic heads)", create: (p) => new EnsembleEstimator(p) },
} satisfies Record<string, EstimatorEntry>;

export type EstimatorName = keyof typeof ESTIMATORS;
