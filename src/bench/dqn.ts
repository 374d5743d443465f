/**
 * The DQN targets as a benchmark: `qttdm compare` of the LunarLander DQN presets over seeds
 * (defaults: the 200k env steps and 5 seeds; `--steps`, `--seeds`, `--configs` override).
 * Figures: per preset, seeds reaching eval ≥ 200, median steps to it, final eval mean, variance
 * ratio to uniform replay, wall-clock per run.
 */
import { compare } from "../train/compare.js";
import type { Benchmark, BenchFigures } from "./types.js";

const DEFAULT_CONFIGS = ["lunarlander/dqn-uniform", "lunarlander/dqn-per", "lunarlander/dqn-reaper", "lunarlander/dqn-reaper-disrc"];

export const dqnBenchmark: Benchmark = {
  name: "dqn",
  description: "DQN presets on LunarLander-v3 over seeds (qttdm compare): solve rate, steps to 200, stability",
  async run(ctx) {
    const steps = Number(ctx.options.steps ?? (ctx.quick ? 5_000 : 200_000));
    const seeds = Number(ctx.options.seeds ?? (ctx.quick ? 1 : 5));
    const configs = (ctx.options.configs as string[] | undefined) ?? DEFAULT_CONFIGS;
    const { summaries, dir } = await compare({ configs, seeds, steps, print: ctx.log, set: ctx.quick ? ["eval.every=2500"] : [] });
    const figures: BenchFigures = { steps_per_run: steps, seeds, output_dir: dir };
    for (const s of summaries) {
      const key = s.config.split("/").pop()!.replace(/[^A-Za-z0-9]+/g, "_");
      figures[`${key}_seeds_solved`] = s.seedsSolved;
      figures[`${key}_median_steps_to_200`] = s.medianStepsToThreshold;
      figures[`${key}_final_eval_mean`] = s.finalMean;
      figures[`${key}_final_eval_std`] = s.finalStd;
      figures[`${key}_variance_ratio_to_uniform`] = s.varianceRatioToUniform;
      figures[`${key}_wall_s_per_run`] = s.meanWallSeconds;
    }
    return figures;
  },
};
