/**
 * End-to-end training throughput (`npm run bench -- train --config PRESET --steps N [--backends wasm,libtorch]`):
 * the real trainer (`qttdm train`) runs the preset for N env steps on each backend, each in its own child
 * process with one compute thread, one after the other.
 *
 * So that updates happen within a short run, `train.learningStarts` becomes min(preset's, N/10). Periodic
 * evaluation and checkpoints are off and the final evaluation is one episode; the rates come from the run's
 * `metrics.jsonl` (`charts/train_seconds`, `charts/updates`), so start-up and the final evaluation are not
 * counted. Figures: `<backend>_env_steps_per_s` over the steps after learning starts (the steady state of a long
 * run), `<backend>_overall_env_steps_per_s` from step 0, `<backend>_updates_per_s` after learning starts,
 * `<backend>_wall_s` of the whole child process, and `libtorch_speedup_vs_wasm` when both ran. The run
 * directories go to a temporary folder that is removed afterwards.
 *
 * `--baseline DIR` also runs another built qttdm checkout (e.g. an earlier commit in a git worktree) on its
 * default wasm backend, in the same invocation, as `baseline_wasm`, and adds `<backend>_speedup_vs_baseline`:
 * the side-by-side form of "faster than before this change".
 *
 * `--actors N` also runs each backend distributed (`replay.transport: redis`, `distributed.actors: N`, a private
 * redis-server; docs/distributed.md) after its single-process run, at the same samples-per-insert (the default
 * derived from the preset's train section), as `<backend>_actors<N>` with `<backend>_actors<N>_speedup`: the
 * learner and each actor then have one compute thread each, so the single process is measured against the
 * learner plus N actors sharing the machine's cores. Its rates count inserted transitions (the learner's env steps).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_PRESET, loadConfig } from "../config/load.js";
import { ConfigError, QttdmError, show } from "../core/errors.js";
import { benchBackends, distModule, runChild } from "./child.js";
import type { BenchFigures, Benchmark } from "./types.js";

export interface TrainRates {
  /** Env steps/s from the first log record at or after learning starts to the last. */
  envStepsPerS: number;
  /** Env steps/s from step 0 to the last log record. */
  overallEnvStepsPerS: number;
  /** Updates/s over the same span as envStepsPerS. */
  updatesPerS: number;
}

/** Rates from a run's `metrics.jsonl` text (see the module doc). */
export function trainRates(metrics: string, learningStarts: number): TrainRates {
  const seconds = new Map<number, number>();
  const updates = new Map<number, number>();
  for (const line of metrics.split("\n")) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { tag: string; step: number; value?: number | null };
    if (r.tag === "charts/train_seconds") seconds.set(r.step, r.value!);
    else if (r.tag === "charts/updates") updates.set(r.step, r.value!);
  }
  const steps = [...seconds.keys()].sort((a, b) => a - b);
  const from = steps.find((s) => s >= learningStarts);
  const to = steps.at(-1);
  if (from === undefined || to === undefined || to === from) {
    throw new QttdmError(`metrics.jsonl holds too few charts/train_seconds records after step ${learningStarts} to time the run; give more --steps`);
  }
  const dt = seconds.get(to)! - seconds.get(from)!;
  return {
    envStepsPerS: (to - from) / dt,
    overallEnvStepsPerS: to / seconds.get(to)!,
    updatesPerS: ((updates.get(to) ?? 0) - (updates.get(from) ?? 0)) / dt,
  };
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

export const trainBenchmark: Benchmark = {
  name: "train",
  description: "end-to-end env steps/s of a preset's trainer per tfjs backend, one thread each",
  async run(ctx) {
    const preset = String(ctx.options.config ?? DEFAULT_PRESET);
    const steps = Number(ctx.options.steps ?? (ctx.quick ? 2_000 : 20_000));
    if (!Number.isInteger(steps) || steps < 10) throw new ConfigError(`--steps: got ${show(ctx.options.steps)}, expected an integer ≥ 10`);
    const config = loadConfig({ config: preset });
    const learningStarts = Math.min(config.train.learningStarts, Math.floor(steps / 10));
    ctx.log(`${preset}, ${steps} env steps; train.learningStarts ${learningStarts} (preset: ${config.train.learningStarts}) so that updates happen within the run`);
    // About 20 records per run: enough to start timing close to learningStarts, too few to cost anything.
    const logEvery = Math.max(learningStarts, Math.ceil(steps / 20));
    const figs: BenchFigures = { preset, steps, learning_starts: learningStarts };
    const actors = ctx.options.actors === undefined ? 0 : Number(ctx.options.actors);
    if (!Number.isInteger(actors) || actors < 0) throw new ConfigError(`--actors: got ${show(ctx.options.actors)}, expected an integer ≥ 0 (actor processes of a distributed run beside each single-process one)`);
    const runs = benchBackends(ctx).flatMap((b) => {
      const local = { label: b, cli: distModule("cli/main.js"), sets: [`experiment.backend=${b}`, "experiment.threads=1"] };
      return actors === 0 ? [local] : [local, { ...local, label: `${b}_actors${actors}`, sets: [...local.sets, "replay.transport=redis", `distributed.actors=${actors}`] }];
    });
    if (ctx.options.baseline !== undefined) {
      const cli = join(String(ctx.options.baseline), "dist", "cli", "main.js");
      if (!existsSync(cli)) throw new ConfigError(`--baseline: got ${show(ctx.options.baseline)}, expected a built qttdm checkout (no ${cli})`);
      // An earlier version may not know experiment.threads: its wasm backend is single-threaded anyway.
      runs.unshift({ label: "baseline_wasm", cli, sets: ["experiment.backend=wasm"] });
    }
    for (const { label: b, cli, sets: backendSets } of runs) {
      const runsDir = mkdtempSync(join(tmpdir(), "qttdm-bench-train-"));
      try {
        const sets = [
          `experiment.totalSteps=${steps}`,
          ...backendSets,
          `experiment.runsDir=${runsDir}`,
          `train.learningStarts=${learningStarts}`,
          `logging.every=${logEvery}`,
          "logging.progress=false",
          "logging.tensorboard=false",
          "eval.every=0",
          "eval.episodes=1",
          "checkpoint.every=0",
          "checkpoint.replay=false",
        ];
        ctx.log(`${b}: training in a child process, one thread`);
        const t0 = performance.now();
        await runChild(cli, ["train", "--config", preset, ...sets.flatMap((s) => ["--set", s])], (line) => ctx.log(`${b}: ${line}`));
        const wall = (performance.now() - t0) / 1000;
        const [run] = readdirSync(runsDir);
        const r = trainRates(readFileSync(join(runsDir, run!, "metrics.jsonl"), "utf8"), learningStarts);
        figs[`${b}_env_steps_per_s`] = round(r.envStepsPerS);
        figs[`${b}_overall_env_steps_per_s`] = round(r.overallEnvStepsPerS);
        figs[`${b}_updates_per_s`] = round(r.updatesPerS);
        figs[`${b}_wall_s`] = round(wall);
        ctx.log(`${b}: ${figs[`${b}_env_steps_per_s`]} env steps/s after learning starts (${figs[`${b}_updates_per_s`]} updates/s), ${figs[`${b}_overall_env_steps_per_s`]} overall`);
      } finally {
        rmSync(runsDir, { recursive: true, force: true });
      }
    }
    const [w, l] = [figs.wasm_env_steps_per_s, figs.libtorch_env_steps_per_s];
    if (typeof w === "number" && typeof l === "number") figs.libtorch_speedup_vs_wasm = round(l / w, 3);
    for (const b of ["wasm", "libtorch"]) {
      const [one, many] = [figs[`${b}_env_steps_per_s`], figs[`${b}_actors${actors}_env_steps_per_s`]];
      if (typeof one === "number" && typeof many === "number") figs[`${b}_actors${actors}_speedup`] = round(many / one, 3);
    }
    const base = figs.baseline_wasm_env_steps_per_s;
    if (typeof base === "number") {
      for (const b of ["wasm", "libtorch"]) {
        const v = figs[`${b}_env_steps_per_s`];
        if (typeof v === "number") figs[`${b}_speedup_vs_baseline`] = round(v / base, 3);
      }
    }
    return figs;
  },
};
