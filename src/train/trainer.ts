/**
 * The training loop: collect with the vector env, store in the replay buffer, update the agent on
 * the configured cadence, write TD errors / surprise back to the buffer, log, evaluate, checkpoint.
 *
 * Determinism: every random stream is derived from `experiment.seed` (env copy i: seed + i for its
 * first episode; exploration, replay sampling and network init: separate `Rng` streams), so a run
 * on the cpu, wasm or libtorch (CPU) backend is reproducible, and a resumed run continues exactly (see collector.ts).
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import YAML from "yaml";
import type { Config } from "../config/schema.js";
import { ConfigError, DivergenceError, QttdmError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { selectBackend, formatBackend, type BackendInfo } from "../backend/index.js";
import { makeEnv, makeVectorEnv } from "../envs/index.js";
import { Logger } from "../logging/logger.js";
import { Progress } from "../logging/progress.js";
import { ReplayBuffer } from "../replay/buffer.js";
import { sampleTelemetry } from "../replay/telemetry.js";
import type { Agent, GreedyMode, ReplaySource } from "../agents/types.js";
import { createAgent, evalModes } from "./agents.js";
import { ReplayBandit } from "./replay-bandit.js";
import { rateLimits } from "../distributed/rate-limiter.js";
import { checkpointName, loadCheckpoint, saveCheckpoint, stepFiles } from "./checkpoint.js";
import { Collector } from "./collector.js";
import { LocalExperience, type ExperienceSource } from "./experience.js";
import { evaluateModes, heldOutEvaluation, type EvalResult } from "./evaluate.js";
import { EvalProcess } from "./eval-process.js";
import { ScalarWindow } from "./metrics.js";
import { createRunDir, DIVERGED_TAG, recordResumeOverrides, resumeConfig, runDirPaths, runRootOf, writeHeldOut, type RunDir } from "./run-dir.js";
import { lockRunDir } from "./run-lock.js";
import { logPositions, rollBackLogs } from "./run-logs.js";
import { parseTrainerState, type TrainerState } from "./trainer-state.js";

export interface TrainOptions {
  config: Config;
  /** Resume the run in this directory (its config.yaml is used; `config` is ignored). */
  resume?: string;
  /** With `resume`: `--set` overrides of the keys a resumed run may change (run-dir.ts RESUMABLE_KEYS). */
  overrides?: string[];
  /** Show the progress display (default: config.logging.progress). */
  progress?: boolean;
  /** Write a line per notable event (run dir, checkpoints); default process.stdout.write. */
  print?: (line: string) => void;
  /** Stop after this many env steps of this session (tests of resume); the run stays resumable. */
  stopAfter?: number;
}

export interface TrainSummary {
  runDir: string;
  envSteps: number;
  updates: number;
  episodes: number;
  wallSeconds: number;
  evals: { step: number; mean: number; std: number }[];
  finalEval: EvalResult | null;
  backend: BackendInfo;
  /** True when the run stopped early (a signal or stopAfter) with a checkpoint to resume from. */
  interrupted: boolean;
  /** The signal that stopped it, if one did. */
  signal: StopSignal | null;
}

/** Signals that stop a run with a checkpoint: Ctrl-C, and what `timeout`, `docker stop` and Slurm send. */
export type StopSignal = "SIGINT" | "SIGTERM";
const STOP_SIGNALS: readonly StopSignal[] = ["SIGINT", "SIGTERM"];

export async function train(opts: TrainOptions): Promise<TrainSummary> {
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  if (opts.resume !== undefined && opts.resume.trim() === "") {
    throw new QttdmError(`--resume: got an empty path; expected a run directory or a checkpoint inside one`);
  }
  if (opts.resume === undefined && opts.overrides?.length) throw new QttdmError("TrainOptions.overrides apply to a resumed run only; pass them in config otherwise");
  const overrides = opts.overrides ?? [];
  const resumed = opts.resume !== undefined ? loadCheckpoint(opts.resume) : null;
  const resumedState = resumed ? parseTrainerState(resumed.trainer, resumed.dir) : null;
  const config = opts.resume !== undefined ? resumeConfig(opts.resume, overrides) : opts.config;
  const { experiment, train: cadence, logging } = config;
  if (resumedState && resumedState.envSteps >= experiment.totalSteps) {
    throw new ConfigError(
      `run ${runRootOf(opts.resume!)} finished at step ${resumedState.envSteps} (experiment.totalSteps ${experiment.totalSteps}); expected a larger experiment.totalSteps to continue it, e.g. --set experiment.totalSteps=${2 * experiment.totalSteps}`,
    );
  }
  const backend = await selectBackend(config.experiment.backend, config.experiment);
  const seed = experiment.seed;

  const distributed = config.replay.transport === "redis";
  if (distributed) rateLimits(config);
  // Envs and agent before the run directory: a config they reject leaves no empty run behind. A distributed
  // learner steps no env (its actors do): one copy gives the agent its spaces.
  const vec = await makeVectorEnv(config.env.id, distributed ? 1 : config.env.numEnvs, config.env.options);
  // A distributed learner evaluates in its own process (eval-process.ts).
  const evalEnv = distributed ? null : await makeEnv(config.env.id, config.env.options);
  const initRng = new Rng(seed * 4 + 1);
  const actRng = new Rng(seed * 4 + 2);
  const replayRng = new Rng(seed * 4 + 3);
  const agent: Agent = createAgent(config, vec, initRng, { restoring: resumed !== null });
  let buffer: ReplayBuffer;
  if (resumed?.replayPath) buffer = await ReplayBuffer.load(resumed.replayPath);
  else {
    if (resumed) throw new QttdmError(`cannot resume from ${resumed.dir}: it holds no replay buffer (checkpoint.replay was false)`);
    buffer = new ReplayBuffer(agent.replaySpec(), config.replay);
  }
  const bandit = config.replay.schedule === "bandit" ? new ReplayBandit(config.replay, buffer, agent, new Rng(seed * 4 + 4)) : null;
  const dir: RunDir = opts.resume !== undefined ? runDirPaths(runRootOf(opts.resume)) : createRunDir(config);
  const lock = lockRunDir(dir.root, print);
  const local = distributed ? null : new LocalExperience(new Collector(vec, seed), agent, buffer, actRng, cadence);
  // Draws use the update counter as the replay schedule's step (PER β, ReaPER+ α/β annealing).
  // Batches are recycled: an update is done with its batch before the next update draws.
  const replaySource: ReplaySource = {
    sample: (n) => buffer.sample(n, replayRng, state.updates, { recycle: true }),
    sampleSequences: (n, len) => buffer.sampleSequences(n, len, replayRng, state.updates, { recycle: true }),
    sampleObservations: (n) => buffer.sampleObservations(n, replayRng),
  };
  const window = new ScalarWindow();
  let state = { envSteps: 0, updates: 0, episodes: 0, lastLogStep: 0, evals: [] as TrainerState["evals"] };
  const rollbackNotes: string[] = [];
  if (resumed) {
    const t = resumedState!;
    rollbackNotes.push(...rollBackLogs(dir.root, t.logs, t.envSteps));
    recordResumeOverrides(dir.root, config, t.envSteps, overrides);
    agent.load(resumed.agent);
    if (bandit) {
      if (!t.bandit) throw new QttdmError(`cannot resume from ${resumed.dir}: its trainer state has no replay bandit, which replay.schedule: bandit needs`);
      bandit.load(t.bandit);
    }
    local?.restore(t, resumed.dir);
    actRng.setState(t.rngs.act);
    replayRng.setState(t.rngs.replay);
    window.load(t.window);
    state = { envSteps: t.envSteps, updates: t.updates, episodes: t.episodes, lastLogStep: t.lastLogStep, evals: t.evals };
  }

  const logger = Logger.open(dir.root, { tensorboard: logging.tensorboard, flushSeconds: logging.flushSeconds });
  const progress = (opts.progress ?? logging.progress)
    ? new Progress({ total: experiment.totalSteps, start: state.envSteps, label: `${config.env.id} ${config.agent.kind}` })
    : null;
  const say = (line: string) => (progress ? progress.log(line) : print(line));
  if (!resumed) {
    logger.text("run/config", "```\n" + YAML.stringify(config) + "```", 0);
    logger.text("run/backend", formatBackend(backend), 0);
    say(`run directory: ${dir.root}`);
    say(`backend: ${formatBackend(backend)}; parameters: ${JSON.stringify(agent.parameterCounts())}`);
  } else {
    say(`resuming ${dir.root} at step ${state.envSteps}${overrides.length ? ` with ${overrides.join(" ")}` : ""}`);
    for (const note of rollbackNotes) say(`logs: ${note}`);
  }

  /** Every step runs; while an error is on its way out, a failing one (a full disk at logger.close) must not hide it. */
  const release = (failing: boolean) => {
    for (const cleanup of [() => progress?.finish(), () => logger.close(), () => vec.close(), () => evalEnv?.close(), () => agent.dispose(), () => lock.release()]) {
      try {
        cleanup();
      } catch (e) {
        if (!failing) throw e;
      }
    }
  };
  let source: ExperienceSource;
  try {
    // Loaded only here, so that a single-process run does not load the Redis client.
    source = local ?? (await (await import("../distributed/learner.js")).DistributedLearner.open({ config, runDir: dir.root, buffer, agent, say, resumed: resumedState }));
  } catch (err) {
    release(true);
    // A new run that could not reach its Redis server has trained nothing: leave no empty run behind.
    if (!resumed) rmSync(dir.root, { recursive: true, force: true });
    throw err;
  }

  let stopSignal: StopSignal | null = null;
  const onSignal = (signal: StopSignal) => {
    if (stopSignal) process.exit(signal === "SIGINT" ? 130 : 143);
    stopSignal = signal;
    say(`${signal}: saving a checkpoint, then stopping (send it again to quit at once)`);
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);

  const started = performance.now();
  const sessionStart = state.envSteps;
  let lastCheckpointPath: string | null = resumed?.dir ?? null;
  let lastSpsTime = started;
  let lastYield = started;
  let lastSpsStep = state.envSteps;
  const secondsBefore = resumedState?.trainSeconds ?? 0;
  const trainSeconds = () => secondsBefore + (performance.now() - started) / 1000;

  const writeCheckpoint = async () => {
    // Flushed first, so that the lengths recorded are those of every record up to this step.
    logger.flush();
    const trainerState: TrainerState = {
      envSteps: state.envSteps,
      updates: state.updates,
      episodes: state.episodes,
      lastLogStep: state.lastLogStep,
      ...source.state(),
      rngs: { act: actRng.state(), replay: replayRng.state() },
      window: window.state(),
      evals: state.evals,
      trainSeconds: trainSeconds(),
      logs: logPositions(dir.root),
      ...(bandit ? { bandit: bandit.state() } : {}),
    };
    lastCheckpointPath = await saveCheckpoint(dir.checkpointsDir, checkpointName(state.envSteps), {
      trainer: trainerState as unknown as Record<string, unknown>,
      agent: agent.state(),
      writeReplay: config.checkpoint.replay ? (p) => buffer.save(p) : undefined,
    });
  };

  /** Logs and saves the evaluation of `step` (its main mode first), wherever it ran. */
  const recordEval = (step: number, results: [GreedyMode, EvalResult][]) => {
    const [[, r], ...others] = results as [[GreedyMode, EvalResult], ...[GreedyMode, EvalResult][]];
    logger.scalar("eval/episodic_return", r.mean, step);
    logger.scalar("eval/episodic_return_std", r.std, step);
    const choice = bandit?.afterEval(r.mean);
    if (choice) logger.scalars(choice, step);
    const extra: Record<string, EvalResult> = {};
    for (const [mode, e] of others) {
      const name = mode.replace(/^greedy-/, "");
      extra[name] = e;
      logger.scalar(`eval/${name}_episodic_return`, e.mean, step);
      logger.scalar(`eval/${name}_episodic_return_std`, e.std, step);
    }
    // Atomic: a resumed distributed run reads the files of evaluations that finished after its checkpoint.
    const path = evalResultPath(dir, step);
    writeFileSync(`${path}.tmp`, JSON.stringify({ step, ...r, ...extra }, null, 1));
    renameSync(`${path}.tmp`, path);
    state.evals.push({ step, mean: r.mean, std: r.std });
    progress?.update(state.envSteps, { evalReturn: r.mean });
  };
  // A distributed learner evaluates in its own process, so that evaluations never stall training.
  const evalProcess = distributed ? new EvalProcess(dir.root, join(dir.evalDir, "pending"), (reply) => recordEval(reply.step, reply.results), say) : null;
  if (evalProcess) {
    // A resumed session: evaluations of steps up to the checkpoint that finished after it was written (their log
    // records were rolled back) are logged again from their files, and those still pending are made again.
    const done = new Set(state.evals.map((e) => e.step));
    const pending = evalProcess.pendingSteps();
    for (const step of pending) if (step > state.envSteps) evalProcess.discard(step);
    const open = pending.filter((step) => step <= state.envSteps && !done.has(step));
    for (const step of stepFiles(dir.evalDir, ".json")) {
      if (step <= state.envSteps && !done.has(step) && !open.includes(step)) recordEval(step, readEvalResults(dir, step, evalModes(config)));
    }
    for (const step of open) evalProcess.resubmit(step);
  }
  const runEval = () => {
    if (evalProcess) evalProcess.submit(state.envSteps, agent.state());
    else recordEval(state.envSteps, evaluateModes(config, evalEnv!, agent, evalModes(config), state.envSteps, actRng));
  };

  let finalEval: EvalResult | null = null;
  let interrupted = false;
  let failed = false;
  try {
    let lastSteps = 0;
    while (state.envSteps < experiment.totalSteps) {
      const collected = await source.collect(state);
      const before = state.envSteps;
      state.envSteps += collected.steps;
      if (collected.steps > 0) lastSteps = collected.steps;
      for (const ep of collected.episodes) {
        state.episodes += 1;
        logger.scalar("charts/episodic_return", ep.return, state.envSteps);
        logger.scalar("charts/episodic_length", ep.length, state.envSteps);
        progress?.update(state.envSteps, { episodicReturn: ep.return });
      }

      const due = source.updatesDue(before, state.envSteps, state.updates);
      for (let r = 0; r < due; r++) {
        const choice = bandit?.beforeUpdate(state.updates);
        if (choice) logger.scalars(choice, state.envSteps);
        const upd = agent.update(replaySource);
        buffer.updatePriorities(upd.indices, { tdError: upd.tdError, tdStd: upd.tdStd, surprise: upd.surprise }, upd.sampledAt);
        state.updates += 1;
        const tele = sampleTelemetry(upd.info).scalars;
        window.add({
          ...upd.scalars,
          "replay/td_error_mean": tele.tdAbsMean,
          "replay/reliability_mean": tele.reliabilityMean,
          "replay/is_weight_mean": tele.isWeightMean,
          "replay/alpha": tele.alpha,
          "replay/beta": config.replay.sampler === "per" ? tele.isBeta : tele.beta,
        });
        if (state.updates % 100 === 1) logger.histogram("replay/sampled_reliability", upd.info.reliability, state.envSteps);
      }

      if (state.envSteps - state.lastLogStep >= logging.every) {
        const now = performance.now();
        logger.scalars(window.drain(), state.envSteps);
        logger.scalars(agent.actScalars(state.envSteps), state.envSteps);
        logger.scalars(source.scalars(), state.envSteps);
        logger.scalar("charts/SPS", ((state.envSteps - lastSpsStep) * 1000) / Math.max(1, now - lastSpsTime), state.envSteps);
        logger.scalar("charts/updates", state.updates, state.envSteps);
        logger.scalar("charts/train_seconds", trainSeconds(), state.envSteps);
        lastSpsTime = now;
        lastSpsStep = state.envSteps;
        state.lastLogStep = state.envSteps;
      }
      progress?.update(state.envSteps);
      // The loop is synchronous; yield now and then so signals (SIGINT) and the log-flush timer run.
      if (performance.now() - lastYield > 100) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }

      if (config.eval.every > 0 && crossed(before, state.envSteps, config.eval.every)) runEval();
      const sessionDone = opts.stopAfter !== undefined && state.envSteps - sessionStart >= opts.stopAfter;
      if (stopSignal || sessionDone) {
        await writeCheckpoint();
        interrupted = true;
        say(`stopped at step ${state.envSteps}; resume with: npx qttdm train --resume ${relative(process.cwd(), dir.root) || "."}`);
        break;
      }
      if (config.checkpoint.every > 0 && crossed(before, state.envSteps, config.checkpoint.every) && state.envSteps < experiment.totalSteps) {
        await writeCheckpoint();
      }
    }
    if (!interrupted) {
      if (config.eval.every === 0 || !crossed(state.envSteps - lastSteps, state.envSteps, config.eval.every)) runEval();
      await evalProcess?.drain();
      finalEval = readEvalResult(dir, state.envSteps);
      await writeCheckpoint();
      if (config.eval.heldOut.episodes > 0) {
        // After the final checkpoint: the run's state is the same with or without it.
        const env = evalEnv ?? (await makeEnv(config.env.id, config.env.options));
        try {
          const { episodes, seed } = config.eval.heldOut;
          const h = heldOutEvaluation(env, agent, state.envSteps, episodes, seed);
          writeHeldOut(dir.root, h);
          logger.scalar("eval/held_out_return", h.mean, state.envSteps);
          say(`held-out evaluation: ${h.mean.toFixed(1)} ± ${h.std.toFixed(1)} over ${episodes} episodes from seed ${seed}`);
        } finally {
          if (env !== evalEnv) env.close();
        }
      }
    }
  } catch (err) {
    failed = true;
    if (err instanceof DivergenceError) {
      logger.text(DIVERGED_TAG, err.message, state.envSteps);
      throw new DivergenceError(
        `${err.message}. The run stopped; ${lastCheckpointPath ? `the last good checkpoint is ${lastCheckpointPath}` : "no checkpoint had been written yet"}.`,
        dir.root,
      );
    }
    throw err;
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    // The actors, the evaluator and a private redis-server go first: nothing below may leave them running.
    for (const close of [() => source.close(), () => evalProcess?.close()]) {
      try {
        await close();
      } catch (e) {
        if (!failed) throw e;
      }
    }
    release(failed);
  }
  const wallSeconds = (performance.now() - started) / 1000;
  if (!interrupted) {
    say(`done: ${state.envSteps} env steps, ${state.updates} updates in ${wallSeconds.toFixed(0)} s; final eval ${finalEval?.mean.toFixed(1)} ± ${finalEval?.std.toFixed(1)}`);
    say(`run directory: ${dir.root}\nTensorBoard: tensorboard --logdir ${relative(process.cwd(), dir.root) || "."}`);
  }
  return { runDir: dir.root, envSteps: state.envSteps, updates: state.updates, episodes: state.episodes, wallSeconds, evals: state.evals, finalEval, backend, interrupted, signal: stopSignal };
}

/** True when a multiple of `every` lies in (before, after]. */
function crossed(before: number, after: number, every: number): boolean {
  return Math.floor(after / every) > Math.floor(before / every);
}

/** Where the evaluation at `step` is written; named like the checkpoint of that step. */
function evalResultPath(dir: RunDir, step: number): string {
  return join(dir.evalDir, `${checkpointName(step)}.json`);
}

function readEvalResult(dir: RunDir, step: number): EvalResult {
  return JSON.parse(readFileSync(evalResultPath(dir, step), "utf8")) as EvalResult;
}

/** A saved evaluation as per-mode results: the main mode's fields at the top, the others under their names (recordEval's layout). */
function readEvalResults(dir: RunDir, step: number, modes: readonly GreedyMode[]): [GreedyMode, EvalResult][] {
  const saved = readEvalResult(dir, step) as EvalResult & Record<string, EvalResult>;
  const [main, ...others] = modes;
  return [[main!, saved], ...others.map((m): [GreedyMode, EvalResult] => [m, saved[m.replace(/^greedy-/, "")]!])];
}
