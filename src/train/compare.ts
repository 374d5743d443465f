/**
 * `qttdm compare`: trains every config × seed (in worker threads, up to the core count), then
 * summarises the runs side by side in `summary.md` and `summary.json`:
 * - steps and wall-clock to the first evaluation whose mean reaches the env's reward threshold;
 * - final score: per seed, the mean of its last 5 evaluations; then mean ± std over seeds;
 * - seeds solved (final score ≥ threshold);
 * - stability: variance of the episodic training return over the second half of training, and its
 *   ratio to the uniform-replay config's (the baseline), when one is in the comparison;
 * - wall-clock per run and, for planning agents, the planning cost (ms per action).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, join, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { loadConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { envSpec } from "../envs/index.js";
import { meanStd } from "./metrics.js";
import { timestamp } from "./run-dir.js";

export interface CompareOptions {
  configs: string[];
  seeds: number;
  /** Overrides experiment.totalSteps. */
  steps?: number;
  /** Extra --set overrides applied to every config. */
  set?: string[];
  /** Output directory (default runs/compare__<timestamp>). */
  out?: string;
  /** Parallel runs (default: core count); 0 runs in this thread, one after another. */
  workers?: number;
  print?: (line: string) => void;
}

export interface RunOutcome {
  config: string;
  seed: number;
  runDir: string;
  wallSeconds: number;
}

export interface ConfigSummary {
  config: string;
  runs: number;
  threshold: number;
  /** Per seed: env steps / seconds to the first eval mean ≥ threshold, null if never. */
  stepsToThreshold: (number | null)[];
  secondsToThreshold: (number | null)[];
  medianStepsToThreshold: number | null;
  finalScores: number[];
  finalMean: number;
  finalStd: number;
  seedsSolved: number;
  secondHalfReturnVariance: number;
  varianceRatioToUniform: number | null;
  meanWallSeconds: number;
  planningMsPerAction: number | null;
}

export async function compare(opts: CompareOptions): Promise<{ dir: string; summaries: ConfigSummary[] }> {
  const print = opts.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  const out = resolve(opts.out ?? join("runs", `compare__${timestamp(new Date())}`));
  mkdirSync(out, { recursive: true });
  const jobs: { config: string; seed: number; resolved: Config }[] = [];
  // Seed-major order: a comparison cut short still has every config on the seeds it finished.
  for (let seed = 1; seed <= opts.seeds; seed++) {
    for (const config of opts.configs) {
      const set = [...(opts.set ?? []), `experiment.seed=${seed}`, `experiment.runsDir=${join(out, "runs")}`, "logging.progress=false"];
      if (opts.steps !== undefined) set.push(`experiment.totalSteps=${opts.steps}`);
      jobs.push({ config, seed, resolved: loadConfig({ config, set }) });
    }
  }
  const parallel = opts.workers ?? Math.max(1, availableParallelism());
  print(`compare: ${jobs.length} runs (${opts.configs.length} configs × ${opts.seeds} seeds), ${parallel || 1} at a time, in ${out}`);
  const outcomes: RunOutcome[] = [];
  let next = 0;
  const runOne = async (job: (typeof jobs)[number]): Promise<void> => {
    const t0 = performance.now();
    const runDir = parallel === 0 ? await trainInThread(job.resolved) : await trainInWorker(job.resolved);
    const outcome = { config: job.config, seed: job.seed, runDir, wallSeconds: (performance.now() - t0) / 1000 };
    outcomes.push(outcome);
    print(`  finished ${job.config} seed ${job.seed} in ${outcome.wallSeconds.toFixed(0)} s: ${runDir}`);
  };
  const lanes = Array.from({ length: Math.max(1, parallel) }, async () => {
    while (next < jobs.length) await runOne(jobs[next++]!);
  });
  await Promise.all(lanes);
  const summaries = summarise(opts.configs, outcomes, jobs[0]!.resolved);
  writeFileSync(join(out, "summary.json"), JSON.stringify({ summaries, runs: outcomes }, null, 1));
  writeFileSync(join(out, "summary.md"), summaryMarkdown(summaries));
  print(summaryMarkdown(summaries));
  print(`summary: ${join(out, "summary.md")}`);
  return { dir: out, summaries };
}

async function trainInThread(config: Config): Promise<string> {
  const { train } = await import("./trainer.js");
  return (await train({ config, progress: false, print: () => {} })).runDir;
}

function trainInWorker(config: Config): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const worker = new Worker(new URL("./compare-worker.js", import.meta.url), { workerData: { config } });
    worker.once("message", (m: { runDir?: string; error?: string }) => (m.error ? reject(new Error(m.error)) : resolvePromise(m.runDir!)));
    worker.once("error", reject);
    worker.once("exit", (code) => code !== 0 && reject(new Error(`compare worker exited with code ${code}`)));
  });
}

interface MetricRecord {
  step: number;
  tag: string;
  value?: number | null;
  wall_time: number;
}

function readMetrics(runDir: string): MetricRecord[] {
  const file = join(runDir, "metrics.jsonl");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as MetricRecord);
}

export function summarise(configs: string[], outcomes: RunOutcome[], example: Config): ConfigSummary[] {
  const threshold = envSpec(example.env.id).rewardThreshold ?? Infinity;
  const perConfig = configs.map((config) => {
    const runs = outcomes.filter((o) => o.config === config).sort((a, b) => a.seed - b.seed);
    const stepsTo: (number | null)[] = [];
    const secondsTo: (number | null)[] = [];
    const finals: number[] = [];
    const secondHalf: number[] = [];
    const planning: number[] = [];
    for (const run of runs) {
      const recs = readMetrics(run.runDir);
      const t0 = recs.length ? recs[0]!.wall_time : 0;
      const evals = recs.filter((r) => r.tag === "eval/episodic_return" && typeof r.value === "number");
      const hit = evals.find((r) => r.value! >= threshold);
      stepsTo.push(hit ? hit.step : null);
      secondsTo.push(hit ? hit.wall_time - t0 : null);
      const last = evals.slice(-5).map((r) => r.value!);
      finals.push(last.length ? meanStd(last).mean : NaN);
      const returns = recs.filter((r) => r.tag === "charts/episodic_return" && typeof r.value === "number");
      const total = Math.max(...recs.map((r) => r.step), 1);
      secondHalf.push(meanStd(returns.filter((r) => r.step > total / 2).map((r) => r.value!)).std ** 2);
      planning.push(...recs.filter((r) => r.tag === "planner/ms_per_action" && typeof r.value === "number").map((r) => r.value!));
    }
    const solvedSteps = stepsTo.filter((s): s is number => s !== null).sort((a, b) => a - b);
    const { mean, std } = meanStd(finals);
    return {
      config,
      runs: runs.length,
      threshold,
      stepsToThreshold: stepsTo,
      secondsToThreshold: secondsTo,
      // Median over all seeds, counting seeds that never reached the threshold as infinitely slow.
      medianStepsToThreshold: solvedSteps.length * 2 > runs.length ? solvedSteps[Math.floor((runs.length - 1) / 2)]! : null,
      finalScores: finals,
      finalMean: mean,
      finalStd: std,
      seedsSolved: finals.filter((f) => f >= threshold).length,
      secondHalfReturnVariance: meanStd(secondHalf).mean,
      varianceRatioToUniform: null as number | null,
      meanWallSeconds: meanStd(runs.map((r) => r.wallSeconds)).mean,
      planningMsPerAction: planning.length ? meanStd(planning).mean : null,
    };
  });
  const uniform = perConfig.find((s) => loadConfig({ config: s.config }).replay.sampler === "uniform");
  if (uniform) for (const s of perConfig) s.varianceRatioToUniform = s.secondHalfReturnVariance / uniform.secondHalfReturnVariance;
  return perConfig;
}

export function summaryMarkdown(summaries: ConfigSummary[]): string {
  const fmt = (x: number | null, d = 1) => (x === null || !Number.isFinite(x) ? "–" : x.toFixed(d));
  const lines = [
    "| config | runs | median steps to threshold | final eval (mean ± std) | seeds solved | 2nd-half return variance | ratio to uniform | wall-clock per run (s) | planning ms/action |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const s of summaries) {
    lines.push(
      `| ${basename(s.config)} | ${s.runs} | ${s.medianStepsToThreshold ?? "not reached"} | ${fmt(s.finalMean)} ± ${fmt(s.finalStd)} | ${s.seedsSolved}/${s.runs} | ${fmt(s.secondHalfReturnVariance, 0)} | ${fmt(s.varianceRatioToUniform, 2)} | ${fmt(s.meanWallSeconds, 0)} | ${fmt(s.planningMsPerAction, 2)} |`,
    );
  }
  const per = summaries.map((s) => `- ${s.config}: steps to threshold per seed ${JSON.stringify(s.stepsToThreshold)}, final scores ${JSON.stringify(s.finalScores.map((x) => Math.round(x * 10) / 10))}`);
  return `# Comparison\n\nThreshold: eval mean ≥ ${summaries[0]?.threshold}. Final eval: per seed the mean of its last 5 evaluations.\n\n${lines.join("\n")}\n\n${per.join("\n")}\n`;
}
