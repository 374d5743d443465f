/**
 * `qttdm compare`: trains every config × seed (in worker threads, up to the core count), then
 * summarises the runs side by side in `summary.md` and `summary.json`:
 * - steps and wall-clock to the first evaluation whose mean reaches the env's reward threshold;
 * - final score: per seed, the mean of its last 5 evaluations; then mean ± std over seeds;
 * - seeds solved (final score ≥ threshold);
 * - stability: variance of the episodic training return over the second half of training, and its
 *   ratio to the uniform-replay config's (the baseline), when one is in the comparison;
 * - wall-clock per run and, for planning agents, the planning cost (ms per action).
 * A comparison is resumable: run it again with the same `out` and it keeps the finished runs it
 * finds there, resumes interrupted ones from their latest checkpoint, and trains the rest;
 * `summariseOnly` summarises what is there without training. A run that diverges (NaN/Inf, or Q
 * beyond `agent.maxAbsQ`) stops without stopping the others: it is summarised with what it logged,
 * counted as diverged, and not retrained by a later compare (it would diverge again, deterministically).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, join, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { configToYaml, loadConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { DivergenceError, QttdmError } from "../core/errors.js";
import { envSpec } from "../envs/index.js";
import { checkpointEnvSteps } from "./checkpoint.js";
import { meanStd } from "./metrics.js";
import { DIVERGED_TAG, runStem, timestamp } from "./run-dir.js";

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
  /** Summarise the runs already in `out` (finished or not) without training. */
  summariseOnly?: boolean;
  print?: (line: string) => void;
}

export interface RunOutcome {
  config: string;
  seed: number;
  runDir: string;
  /** False for a run summarised before it reached experiment.totalSteps (summariseOnly) or that diverged. */
  finished: boolean;
  /** The run stopped on divergence; its figures cover what it logged before. */
  diverged: boolean;
}

export interface ConfigSummary {
  config: string;
  runs: number;
  /** Runs summarised before they finished (`summariseOnly`); their figures cover what they logged. */
  unfinishedRuns: number;
  /** Runs that stopped on divergence (included in every figure with what they logged). */
  divergedRuns: number;
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

/** The resolved config of one run of a comparison writing to `out`. */
export function jobConfig(config: string, seed: number, out: string, opts: Pick<CompareOptions, "set" | "steps">): Config {
  const set = [...(opts.set ?? []), `experiment.seed=${seed}`, `experiment.runsDir=${join(resolve(out), "runs")}`, "logging.progress=false"];
  if (opts.steps !== undefined) set.push(`experiment.totalSteps=${opts.steps}`);
  return loadConfig({ config, set });
}

interface Job {
  config: string;
  seed: number;
  resolved: Config;
}

export async function compare(opts: CompareOptions): Promise<{ dir: string; summaries: ConfigSummary[] }> {
  const print = opts.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  const out = resolve(opts.out ?? join("runs", `compare__${timestamp(new Date())}`));
  mkdirSync(out, { recursive: true });
  const jobs: Job[] = [];
  // Seed-major order: a comparison cut short still has every config on the seeds it finished.
  for (let seed = 1; seed <= opts.seeds; seed++) {
    for (const config of opts.configs) jobs.push({ config, seed, resolved: jobConfig(config, seed, out, opts) });
  }
  const outcomes: RunOutcome[] = [];
  const todo: { job: Job; resume?: string }[] = [];
  for (const job of jobs) {
    const earlier = earlierRun(job);
    const total = job.resolved.experiment.totalSteps;
    if (earlier && (opts.summariseOnly || earlier.envSteps >= total || earlier.diverged)) {
      outcomes.push({ config: job.config, seed: job.seed, runDir: earlier.runDir, finished: earlier.envSteps >= total, diverged: earlier.diverged });
      print(`  found ${job.config} seed ${job.seed} at step ${Math.max(0, earlier.envSteps)}/${total}${earlier.diverged ? " (diverged)" : ""}: ${earlier.runDir}`);
    } else if (opts.summariseOnly) {
      print(`  no run of ${job.config} seed ${job.seed} in ${out}`);
    } else {
      todo.push({ job, resume: earlier && earlier.envSteps >= 0 ? earlier.runDir : undefined });
    }
  }
  const parallel = opts.workers ?? Math.max(1, availableParallelism());
  if (todo.length > 0) {
    const resuming = todo.filter((t) => t.resume).length;
    print(`compare: ${todo.length} of ${jobs.length} runs to train (${opts.configs.length} configs × ${opts.seeds} seeds${resuming ? `, ${resuming} resumed` : ""}), ${parallel || 1} at a time, in ${out}`);
  }
  let next = 0;
  const runOne = async ({ job, resume }: (typeof todo)[number]): Promise<void> => {
    const t0 = performance.now();
    const seconds = () => ((performance.now() - t0) / 1000).toFixed(0);
    try {
      const runDir = parallel === 0 ? await trainInThread(job.resolved, resume) : await trainInWorker(job.resolved, resume);
      outcomes.push({ config: job.config, seed: job.seed, runDir, finished: true, diverged: false });
      print(`  finished ${job.config} seed ${job.seed} in ${seconds()} s: ${runDir}`);
    } catch (err) {
      if (!(err instanceof DivergenceError && err.runDir)) throw err;
      outcomes.push({ config: job.config, seed: job.seed, runDir: err.runDir, finished: false, diverged: true });
      print(`  diverged ${job.config} seed ${job.seed} after ${seconds()} s: ${err.message}`);
    }
  };
  const lanes = Array.from({ length: Math.max(1, parallel) }, async () => {
    while (next < todo.length) await runOne(todo[next++]!);
  });
  await Promise.all(lanes);
  if (outcomes.length === 0) throw new QttdmError(`compare: no runs to summarise in ${out}`);
  const summaries = summarise(opts.configs, outcomes, jobs[0]!.resolved);
  writeFileSync(join(out, "summary.json"), JSON.stringify({ summaries, runs: outcomes }, null, 1));
  writeFileSync(join(out, "summary.md"), summaryMarkdown(summaries));
  print(summaryMarkdown(summaries));
  print(`summary: ${join(out, "summary.md")}`);
  return { dir: out, summaries };
}

/**
 * The run of `job` that an earlier compare into the same directory left (same name stem and the
 * same resolved config), the one furthest along; envSteps −1 when it has no checkpoint yet.
 */
function earlierRun(job: Job): { runDir: string; envSteps: number; diverged: boolean } | null {
  const runsDir = job.resolved.experiment.runsDir;
  if (!existsSync(runsDir)) return null;
  const stem = runStem(job.resolved);
  const yaml = configToYaml(job.resolved);
  let best: { runDir: string; envSteps: number } | null = null;
  for (const name of readdirSync(runsDir)) {
    if (!name.startsWith(stem)) continue;
    const runDir = join(runsDir, name);
    const configPath = join(runDir, "config.yaml");
    if (!existsSync(configPath) || readFileSync(configPath, "utf8") !== yaml) continue;
    const envSteps = checkpointEnvSteps(runDir) ?? -1;
    if (!best || envSteps > best.envSteps) best = { runDir, envSteps };
  }
  return best && { ...best, diverged: readMetrics(best.runDir).some((r) => r.tag === DIVERGED_TAG) };
}

async function trainInThread(config: Config, resume?: string): Promise<string> {
  const { train } = await import("./trainer.js");
  return (await train({ config, resume, progress: false, print: () => {} })).runDir;
}

function trainInWorker(config: Config, resume?: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const worker = new Worker(new URL("./compare-worker.js", import.meta.url), { workerData: { config, resume } });
    worker.once("message", (m: { runDir?: string; error?: string; diverged?: boolean }) => {
      if (m.error === undefined) resolvePromise(m.runDir!);
      else reject(m.diverged ? new DivergenceError(m.error, m.runDir) : new Error(m.error));
    });
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

/**
 * Seconds of training by env step: the trainer's `charts/train_seconds` (which excludes the time a
 * resumed run lay idle) at the last record at or before the step; for runs that predate that scalar,
 * wall time since the run's first record.
 */
function trainingClock(recs: MetricRecord[]): (step: number) => number {
  const clock = recs.filter((r) => r.tag === "charts/train_seconds" && typeof r.value === "number");
  const t0 = recs.length ? recs[0]!.wall_time : 0;
  return (step) => {
    let found: MetricRecord | undefined;
    if (clock.length > 0) {
      for (const r of clock) if (r.step <= step) found = r;
      return found ? found.value! : 0;
    }
    for (const r of recs) if (r.step <= step) found = r;
    return found ? found.wall_time - t0 : 0;
  };
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
    const wall: number[] = [];
    for (const run of runs) {
      const recs = readMetrics(run.runDir);
      const seconds = trainingClock(recs);
      const evals = recs.filter((r) => r.tag === "eval/episodic_return" && typeof r.value === "number");
      const hit = evals.find((r) => r.value! >= threshold);
      stepsTo.push(hit ? hit.step : null);
      secondsTo.push(hit ? seconds(hit.step) : null);
      wall.push(seconds(Infinity));
      const last = evals.slice(-5).map((r) => r.value!);
      finals.push(last.length ? meanStd(last).mean : NaN);
      const returns = recs.filter((r) => r.tag === "charts/episodic_return" && typeof r.value === "number");
      const total = Math.max(...recs.map((r) => r.step), 1);
      // A run that finished fewer than two episodes in its second half has no spread to measure.
      const late = returns.filter((r) => r.step > total / 2).map((r) => r.value!);
      if (late.length >= 2) secondHalf.push(meanStd(late).std ** 2);
      planning.push(...recs.filter((r) => r.tag === "planner/ms_per_action" && typeof r.value === "number").map((r) => r.value!));
    }
    const solvedSteps = stepsTo.filter((s): s is number => s !== null).sort((a, b) => a - b);
    const { mean, std } = meanStd(finals);
    return {
      config,
      runs: runs.length,
      unfinishedRuns: runs.filter((r) => !r.finished && !r.diverged).length,
      divergedRuns: runs.filter((r) => r.diverged).length,
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
      meanWallSeconds: meanStd(wall).mean,
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
      `| ${basename(s.config)} | ${s.runs}${s.unfinishedRuns ? ` (${s.unfinishedRuns} unfinished)` : ""}${s.divergedRuns ? ` (${s.divergedRuns} diverged)` : ""} | ${s.medianStepsToThreshold ?? "not reached"} | ${fmt(s.finalMean)} ± ${fmt(s.finalStd)} | ${s.seedsSolved}/${s.runs} | ${fmt(s.secondHalfReturnVariance, 0)} | ${fmt(s.varianceRatioToUniform, 2)} | ${fmt(s.meanWallSeconds, 0)} | ${fmt(s.planningMsPerAction, 2)} |`,
    );
  }
  const per = summaries.map((s) => `- ${s.config}: steps to threshold per seed ${JSON.stringify(s.stepsToThreshold)}, final scores ${JSON.stringify(s.finalScores.map((x) => Math.round(x * 10) / 10))}`);
  return `# Comparison\n\nThreshold: eval mean ≥ ${summaries[0]?.threshold}. Final eval: per seed the mean of its last 5 evaluations.\n\n${lines.join("\n")}\n\n${per.join("\n")}\n`;
}
