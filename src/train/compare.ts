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
 *
 * The comparison folder: `compare.json` (the manifest: configs, seeds, steps, overrides), `runs/`,
 * `summary.md` and `summary.json` (whose run paths are relative to the folder, so it can be moved).
 * compare writes only into a new or empty folder or one holding the same comparison. SIGINT or
 * SIGTERM asks each running run to save a checkpoint and stop (a second one quits at once); compare
 * then returns `interrupted` (the CLI exits with 130 or 143) and the same call resumes.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, isAbsolute, join, relative, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { configToYaml, loadConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { DivergenceError, FileFormatError, QttdmError, show } from "../core/errors.js";
import { envSpec } from "../envs/index.js";
import { checkpointEnvSteps } from "./checkpoint.js";
import { writeReport } from "../report/index.js";
import { readMetricsFile, warnOnStderr, type MetricRecord } from "./metrics-file.js";
import { meanStd } from "./metrics.js";
import { DIVERGED_TAG, readHeldOut, readRunConfig, runStem, timestamp } from "./run-dir.js";

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
  /** Warnings (a skipped line of a damaged metrics.jsonl), one line each; default stderr. */
  warn?: (line: string) => void;
}

/** What compare returns; `interrupted` is the signal that stopped the training (summaries are then empty). */
export interface CompareResult {
  dir: string;
  summaries: ConfigSummary[];
  interrupted: "SIGINT" | "SIGTERM" | null;
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
  /** Per seed the mean return of its held-out evaluation (config eval.heldOut, or `qttdm eval --save`); null where it has none. */
  heldOutScores: (number | null)[];
  /** Mean and std over the seeds that have one (NaN: none has). */
  heldOutMean: number;
  heldOutStd: number;
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

export async function compare(opts: CompareOptions): Promise<CompareResult> {
  const print = opts.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  // Each damaged line once, though compare reads a run's metrics more than once.
  const warned = new Set<string>();
  const warn = (line: string) => {
    if (warned.has(line)) return;
    warned.add(line);
    (opts.warn ?? warnOnStderr)(line);
  };
  const metricsOf = (runDir: string) => readMetricsFile(join(runDir, "metrics.jsonl"), warn);
  const out = resolve(opts.out ?? join("runs", `compare__${timestamp(new Date())}`));
  const jobs: Job[] = [];
  // Seed-major order: a comparison cut short still has every config on the seeds it finished.
  for (let seed = 1; seed <= opts.seeds; seed++) {
    for (const config of opts.configs) jobs.push({ config, seed, resolved: jobConfig(config, seed, out, opts) });
  }
  const manifest: CompareManifest = { qttdm: "compare", configs: opts.configs, seeds: opts.seeds, steps: opts.steps ?? null, set: opts.set ?? [] };
  // A summary of its first seeds leaves the comparison as large as it was.
  manifest.seeds = Math.max(manifest.seeds, checkOut(out, manifest, jobs, opts.summariseOnly === true));
  mkdirSync(out, { recursive: true });
  const writeManifest = () => writeFileSync(join(out, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
  if (!opts.summariseOnly) writeManifest();
  const outcomes: RunOutcome[] = [];
  const todo: { job: Job; resume?: string }[] = [];
  for (const job of jobs) {
    const earlier = earlierRun(job, metricsOf);
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
  // SIGINT / SIGTERM: no new runs start, and each running one saves a checkpoint and stops. The trainer
  // stops on SIGINT; signals do not reach worker threads, so each worker is told by message.
  const running = new Set<Worker>();
  let stopSignal: "SIGINT" | "SIGTERM" | null = null;
  let stopped = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal) process.exit(signal === "SIGINT" ? 130 : 143);
    stopSignal = signal === "SIGINT" ? "SIGINT" : "SIGTERM";
    print(`compare: ${signal}: each running run saves a checkpoint and stops (${signal} again quits at once)`);
    for (const worker of running) worker.postMessage({ stop: true });
    // A run in this thread hears the signal itself where it listens for it; a listener for SIGINT
    // alone (a trainer that stops on SIGINT only) is told of SIGTERM as a SIGINT.
    if (parallel === 0 && signal !== "SIGINT") {
      const hears = new Set(process.listeners(signal));
      for (const listener of process.listeners("SIGINT")) if (!hears.has(listener)) (listener as (s: NodeJS.Signals) => void)("SIGINT");
    }
  };
  const runOne = async ({ job, resume }: (typeof todo)[number]): Promise<void> => {
    const t0 = performance.now();
    const seconds = () => ((performance.now() - t0) / 1000).toFixed(0);
    try {
      const run = parallel === 0 ? await trainInThread(job.resolved, resume) : await trainInWorker(job.resolved, resume, running);
      if (run.interrupted) {
        stopped++;
        print(`  stopped ${job.config} seed ${job.seed} at step ${run.envSteps} after ${seconds()} s, checkpoint saved: ${run.runDir}`);
        return;
      }
      outcomes.push({ config: job.config, seed: job.seed, runDir: run.runDir, finished: true, diverged: false });
      print(`  finished ${job.config} seed ${job.seed} in ${seconds()} s: ${run.runDir}`);
    } catch (err) {
      if (!(err instanceof DivergenceError && err.runDir)) throw err;
      outcomes.push({ config: job.config, seed: job.seed, runDir: err.runDir, finished: false, diverged: true });
      print(`  diverged ${job.config} seed ${job.seed} after ${seconds()} s: ${err.message}`);
    }
  };
  const lanes = Array.from({ length: Math.max(1, parallel) }, async () => {
    while (!stopSignal && next < todo.length) await runOne(todo[next++]!);
  });
  if (todo.length > 0) for (const sig of SIGNALS) process.on(sig, onSignal);
  try {
    await Promise.all(lanes);
  } finally {
    for (const sig of SIGNALS) process.off(sig, onSignal);
  }
  if (stopSignal) {
    const notStarted = todo.length - next;
    print(
      `compare: stopped by ${stopSignal}: ${stopped} run${stopped === 1 ? "" : "s"} saved a checkpoint${notStarted ? `, ${notStarted} not started` : ""}; ` +
        `run the same command again with the same --out to resume: ${resumeCommand(opts, out)}`,
    );
    return { dir: out, summaries: [], interrupted: stopSignal };
  }
  if (outcomes.length === 0) throw new QttdmError(`compare: no runs to summarise in ${out}`);
  const summaries = summarise(opts.configs, outcomes, jobs[0]!.resolved, metricsOf);
  writeManifest();
  // Run paths relative to the comparison folder, which can then be moved.
  const runs = outcomes.map((o) => ({ ...o, runDir: relative(out, o.runDir) }));
  writeFileSync(join(out, "summary.json"), JSON.stringify({ summaries, runs }, null, 1));
  writeFileSync(join(out, "summary.md"), summaryMarkdown(summaries));
  print(summaryMarkdown(summaries));
  print(`summary: ${join(out, "summary.md")}`);
  try {
    print(`report: ${writeReport([out], { out: join(out, "report.html") }).files[0]}`);
  } catch (e) {
    // The summary stands without it; `qttdm report` can be run again on the folder.
    print(`report: not written (${(e as Error).message})`);
  }
  return { dir: out, summaries, interrupted: null };
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** The command line that repeats this comparison (and so resumes it), for a shell. */
function resumeCommand(opts: CompareOptions, out: string): string {
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const args = ["compare", "--configs", ...opts.configs, "--seeds", String(opts.seeds)];
  if (opts.steps !== undefined) args.push("--steps", String(opts.steps));
  for (const s of opts.set ?? []) args.push("--set", s);
  if (opts.workers !== undefined) args.push("--workers", String(opts.workers));
  const rel = relative(process.cwd(), out);
  args.push("--out", rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? out : rel);
  return `npx qttdm ${args.map(quote).join(" ")}`;
}

/** `compare.json`: what a comparison folder holds, so that another comparison does not write into it. */
interface CompareManifest {
  qttdm: "compare";
  configs: string[];
  seeds: number;
  steps: number | null;
  set: string[];
}

const MANIFEST = "compare.json";
/** What compare writes into its folder (before compare.json, all but that). */
const COMPARE_ENTRIES = new Set([MANIFEST, "runs", "summary.json", "summary.md", "report.html"]);

/**
 * Throws unless `out` is new, empty, or holds this same comparison: a compare.json with the same
 * configs (in any order), steps and overrides, and as many seeds or more (a comparison grows by seeds; a
 * summary may read fewer), or, from before compare.json, only what compare writes, with the runs its
 * summary.json lists being runs of this comparison.
 * @returns the number of seeds of the comparison held there (0: none, or one from before compare.json)
 */
function checkOut(out: string, want: CompareManifest, jobs: Job[], summariseOnly: boolean): number {
  if (!existsSync(out)) return 0;
  if (!statSync(out).isDirectory()) throw new QttdmError(`compare: --out ${out} is a file; expected a directory: a new or empty one, or an earlier comparison's`);
  const entries = readdirSync(out);
  if (entries.length === 0) return 0;
  const other = `give a new or empty --out, or the same --configs, --steps and --set as that comparison (and as many --seeds or more)`;
  const manifestPath = join(out, MANIFEST);
  if (existsSync(manifestPath)) {
    const have = readManifest(manifestPath);
    if (want.seeds < have.seeds && !summariseOnly) {
      throw new QttdmError(
        `compare: --out ${out} holds a comparison of ${have.seeds} seeds (${manifestPath}), expected ${want.seeds} (--seeds): a comparison can be given more seeds, not fewer, except to summarise its first seeds (--summarise)`,
      );
    }
    const flags = { configs: "--configs", steps: "--steps", set: "--set" } as const;
    for (const key of ["configs", "steps", "set"] as const) {
      const norm = (m: CompareManifest) => JSON.stringify(key === "configs" ? [...m.configs].sort() : m[key]);
      if (norm(have) !== norm(want)) {
        throw new QttdmError(`compare: --out ${out} holds another comparison: ${manifestPath} has ${key} ${JSON.stringify(have[key])}, expected ${JSON.stringify(want[key])} (${flags[key]}); ${other}`);
      }
    }
    return have.seeds;
  }
  const foreign = entries.filter((e) => !COMPARE_ENTRIES.has(e));
  if (foreign.length > 0) {
    const names = foreign.slice(0, 3).map(show).join(", ") + (foreign.length > 3 ? ` and ${foreign.length - 3} more` : "");
    throw new QttdmError(`compare: --out ${out} holds what compare did not write (${names}) and no ${MANIFEST}; expected a new or empty directory, or an earlier comparison's`);
  }
  const summaryPath = join(out, "summary.json");
  if (!existsSync(summaryPath)) return 0;
  let runs: unknown;
  try {
    runs = (JSON.parse(readFileSync(summaryPath, "utf8")) as { runs?: unknown }).runs;
  } catch (err) {
    throw new FileFormatError(`compare: ${summaryPath} is not valid JSON (${(err as Error).message}); expected the summary an earlier compare wrote`);
  }
  if (!Array.isArray(runs)) throw new FileFormatError(`compare: ${summaryPath} has runs ${show(runs)}; expected the list of runs an earlier compare wrote`);
  for (const run of runs as { config?: unknown; seed?: unknown; runDir?: unknown }[]) {
    const job = jobs.find((j) => j.config === run.config && j.seed === run.seed);
    if (!job) {
      throw new QttdmError(`compare: --out ${out} holds another comparison: ${summaryPath} lists a run of config ${show(run.config)} seed ${show(run.seed)}, expected one of --configs ${JSON.stringify(want.configs)} with seeds 1..${want.seeds}; ${other}`);
    }
    const runDir = typeof run.runDir === "string" ? locateRun(out, run.runDir) : null;
    if (runDir && !sameRunConfig(runDir, job)) {
      throw new QttdmError(`compare: --out ${out} holds another comparison: ${join(runDir, "config.yaml")} is not the config of ${job.config} seed ${job.seed} with these --steps and --set; ${other}`);
    }
  }
  return 0;
}

function readManifest(path: string): CompareManifest {
  let m: Partial<CompareManifest>;
  try {
    m = JSON.parse(readFileSync(path, "utf8")) as Partial<CompareManifest>;
  } catch (err) {
    throw new FileFormatError(`compare: ${path} is not valid JSON (${(err as Error).message}); expected the manifest an earlier compare wrote`);
  }
  const strings = (x: unknown) => Array.isArray(x) && x.every((s) => typeof s === "string");
  if (m?.qttdm !== "compare" || !strings(m.configs) || typeof m.seeds !== "number" || !(m.steps === null || typeof m.steps === "number") || !strings(m.set)) {
    throw new FileFormatError(`compare: ${path} holds ${show(m)}; expected {"qttdm": "compare", "configs": [...], "seeds": N, "steps": N or null, "set": [...]} as compare writes it`);
  }
  return m as CompareManifest;
}

/**
 * A run directory that a summary.json names: relative to the comparison folder, or (written before
 * run paths were relative) absolute, where the folder's own runs/ is preferred in case it moved.
 */
function locateRun(out: string, runDir: string): string | null {
  if (!isAbsolute(runDir)) return existsSync(join(out, runDir)) ? join(out, runDir) : null;
  const here = join(out, "runs", basename(runDir));
  if (existsSync(here)) return here;
  return existsSync(runDir) ? runDir : null;
}

/**
 * Whether `runDir` was started with the config of `job`, compared resolved (a config.yaml of an earlier
 * version, without keys added since or with other agent kinds' keys, reads as what it ran). experiment.runsDir
 * is left out: it names the comparison folder where the run was made, which may since have moved.
 */
function sameRunConfig(runDir: string, job: Job): boolean {
  if (!existsSync(join(runDir, "config.yaml"))) return false;
  try {
    const config = readRunConfig(runDir);
    config.experiment.runsDir = job.resolved.experiment.runsDir;
    return configToYaml(config) === configToYaml(job.resolved);
  } catch {
    return false;
  }
}

/**
 * The run of `job` that an earlier compare into the same directory left (same name stem and the
 * same resolved config), the one furthest along; envSteps −1 when it has no checkpoint yet.
 */
function earlierRun(job: Job, metricsOf: (runDir: string) => MetricRecord[]): { runDir: string; envSteps: number; diverged: boolean } | null {
  const runsDir = job.resolved.experiment.runsDir;
  if (!existsSync(runsDir)) return null;
  const stem = runStem(job.resolved);
  let best: { runDir: string; envSteps: number } | null = null;
  for (const name of readdirSync(runsDir)) {
    if (!name.startsWith(stem)) continue;
    const runDir = join(runsDir, name);
    if (!sameRunConfig(runDir, job)) continue;
    const envSteps = checkpointEnvSteps(runDir) ?? -1;
    if (!best || envSteps > best.envSteps) best = { runDir, envSteps };
  }
  return best && { ...best, diverged: metricsOf(best.runDir).some((r) => r.tag === DIVERGED_TAG) };
}

/** How a training run ended: finished, or stopped (by a signal) with a checkpoint to resume from. */
interface RunEnd {
  runDir: string;
  envSteps: number;
  interrupted: boolean;
}

async function trainInThread(config: Config, resume?: string): Promise<RunEnd> {
  const { train } = await import("./trainer.js");
  const { runDir, envSteps, interrupted } = await train({ config, resume, progress: false, print: () => {} });
  return { runDir, envSteps, interrupted };
}

/** Trains in a worker thread, which is in `running` while it lives (to be told to stop). */
function trainInWorker(config: Config, resume: string | undefined, running: Set<Worker>): Promise<RunEnd> {
  return new Promise((resolvePromise, reject) => {
    const worker = new Worker(new URL("./compare-worker.js", import.meta.url), { workerData: { config, resume } });
    running.add(worker);
    worker.once("message", (m: Partial<RunEnd> & { error?: string; diverged?: boolean }) => {
      if (m.error === undefined) resolvePromise({ runDir: m.runDir!, envSteps: m.envSteps!, interrupted: m.interrupted === true });
      else reject(m.diverged ? new DivergenceError(m.error, m.runDir) : new Error(m.error));
    });
    worker.once("error", reject);
    worker.once("exit", (code) => {
      running.delete(worker);
      if (code !== 0) reject(new Error(`compare worker exited with code ${code}`));
    });
  });
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

/** A run's held-out mean return; null when it has none, or (with a warning on stderr) when its file is damaged. */
function heldOutMean(runDir: string): number | null {
  try {
    return readHeldOut(runDir)?.mean ?? null;
  } catch (e) {
    warnOnStderr(`qttdm: ${(e as Error).message}; the run is left out of the held-out column`);
    return null;
  }
}

/** Summaries per config of `outcomes`; `metricsOf` reads a run's metrics (default: skipping damaged lines with a warning on stderr). */
export function summarise(
  configs: string[],
  outcomes: RunOutcome[],
  example: Config,
  metricsOf: (runDir: string) => MetricRecord[] = (runDir) => readMetricsFile(join(runDir, "metrics.jsonl")),
): ConfigSummary[] {
  const threshold = envSpec(example.env.id).rewardThreshold ?? Infinity;
  const perConfig = configs.map((config) => {
    const runs = outcomes.filter((o) => o.config === config).sort((a, b) => a.seed - b.seed);
    const stepsTo: (number | null)[] = [];
    const secondsTo: (number | null)[] = [];
    const finals: number[] = [];
    const secondHalf: number[] = [];
    const planning: number[] = [];
    const wall: number[] = [];
    const heldOut: (number | null)[] = [];
    for (const run of runs) {
      const recs = metricsOf(run.runDir);
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
      heldOut.push(heldOutMean(run.runDir));
    }
    const heldOutStats = meanStd(heldOut.filter((h): h is number => h !== null));
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
      heldOutScores: heldOut,
      heldOutMean: heldOutStats.mean,
      heldOutStd: heldOutStats.std,
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

const fmt = (x: number | null, d = 1) => (x === null || !Number.isFinite(x) ? "–" : x.toFixed(d));

/** Held-out mean ± std, with how many seeds have one where not all do. */
function heldOutCell(s: ConfigSummary): string {
  const have = s.heldOutScores.filter((h) => h !== null).length;
  if (have === 0) return "–";
  return `${fmt(s.heldOutMean)} ± ${fmt(s.heldOutStd)}${have < s.runs ? ` (${have} of ${s.runs} seeds)` : ""}`;
}

export function summaryMarkdown(summaries: ConfigSummary[]): string {
  const lines = [
    "| config | runs | median steps to threshold | final eval (mean ± std) | seeds solved | held-out (mean ± std) | 2nd-half return variance | ratio to uniform | wall-clock per run (s) | planning ms/action |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const s of summaries) {
    lines.push(
      `| ${basename(s.config)} | ${s.runs}${s.unfinishedRuns ? ` (${s.unfinishedRuns} unfinished)` : ""}${s.divergedRuns ? ` (${s.divergedRuns} diverged)` : ""} | ${s.medianStepsToThreshold ?? "not reached"} | ${fmt(s.finalMean)} ± ${fmt(s.finalStd)} | ${s.seedsSolved}/${s.runs} | ${heldOutCell(s)} | ${fmt(s.secondHalfReturnVariance, 0)} | ${fmt(s.varianceRatioToUniform, 2)} | ${fmt(s.meanWallSeconds, 0)} | ${fmt(s.planningMsPerAction, 2)} |`,
    );
  }
  const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
  const per = summaries.map(
    (s) =>
      `- ${s.config}: steps to threshold per seed ${JSON.stringify(s.stepsToThreshold)}, final scores ${JSON.stringify(s.finalScores.map(round))}` +
      (s.heldOutScores.some((h) => h !== null) ? `, held-out ${JSON.stringify(s.heldOutScores.map(round))}` : ""),
  );
  return `# Comparison\n\nThreshold: eval mean ≥ ${summaries[0]?.threshold}. Final eval: per seed the mean of its last 5 evaluations.\n\n${lines.join("\n")}\n\n${per.join("\n")}\n`;
}
