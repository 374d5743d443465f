/**
 * An actor process (`qttdm actor`): its own vector env, a copy of the agent loaded from the weights the
 * learner publishes, and seeds derived from the run's seed, its index and its incarnation. It acts with the
 * explore policy, estimates each transition's initial priority (priorities.ts), and appends packed batches
 * to the run's stream, waiting while the learner's insert limit (the rate limiter's back-pressure) is
 * reached. It stops when the learner sets the stop key, on SIGINT/SIGTERM, or when the learner that
 * started it goes away.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Config } from "../config/schema.js";
import { QttdmError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { selectBackend } from "../backend/index.js";
import { makeVectorEnv } from "../envs/index.js";
import { createAgent } from "../train/agents.js";
import { Collector } from "../train/collector.js";
import { readRunConfig } from "../train/run-dir.js";
import { encodeMessage, type ActorBatch } from "./codec.js";
import { PriorityEstimator } from "./priorities.js";
import { connectRedis, retrying, RunKeys, type Redis } from "./redis.js";
import { sendMessage, waitForRoom, type StreamLink } from "./stream.js";
import { decodeAgentState } from "./weights.js";

export interface ActorOptions {
  runDir: string;
  url: string;
  index: number;
  /** Restarts of this index before this process; undefined: drawn from the server (a per-index counter). */
  incarnation?: number;
  print: (line: string) => void;
}

/**
 * Env seed of an actor. Episode k of its copy i is reset with this + i + numEnvs·k (collector.ts), so the actors'
 * ranges start 3 000 017 apart and an incarnation's 100 003 after its predecessor's: apart from the default
 * evaluation seeds (eval.seed 1 000 000 + episode) and from each other until an incarnation has run ~100 000
 * episodes per copy. Below 2^32 for every allowed index (≤ 1024).
 */
export function actorSeed(seed: number, index: number, incarnation: number): number {
  return seed + 3_000_017 * (1 + index) + 100_003 * incarnation;
}

/** The columns of one message being filled, transition by transition. */
class PendingBatch {
  private k = 0;
  private e = 0;
  readonly cols: ActorBatch;
  constructor(readonly size: number, obsDim: number, actionWidth: number, discrete: boolean) {
    this.cols = {
      obs: new Float32Array(size * obsDim),
      nextObs: new Float32Array(size * obsDim),
      action: discrete ? new Int32Array(size * actionWidth) : new Float32Array(size * actionWidth),
      reward: new Float32Array(size),
      terminated: new Uint8Array(size),
      truncated: new Uint8Array(size),
      episodeId: new Int32Array(size),
      stepInEpisode: new Int32Array(size),
      priority: new Float32Array(size).fill(NaN),
      episodeReturn: new Float32Array(size),
      episodeLength: new Int32Array(size),
    };
  }
  get count(): number {
    return this.k;
  }
  push(src: { obs: Float32Array; nextObs: Float32Array; action: ArrayLike<number>; reward: ArrayLike<number>; terminated: ArrayLike<number>; truncated: ArrayLike<number>; episodeId: ArrayLike<number>; stepInEpisode: ArrayLike<number> }, j: number, obsDim: number, w: number): void {
    const c = this.cols;
    const k = this.k++;
    c.obs.set(src.obs.subarray(j * obsDim, (j + 1) * obsDim), k * obsDim);
    c.nextObs.set(src.nextObs.subarray(j * obsDim, (j + 1) * obsDim), k * obsDim);
    for (let a = 0; a < w; a++) c.action[k * w + a] = src.action[j * w + a]!;
    c.reward[k] = src.reward[j]!;
    c.terminated[k] = src.terminated[j]! ? 1 : 0;
    c.truncated[k] = src.truncated[j]! ? 1 : 0;
    c.episodeId[k] = src.episodeId[j]!;
    c.stepInEpisode[k] = src.stepInEpisode[j]!;
  }
  endEpisode(ret: number, length: number): void {
    this.cols.episodeReturn[this.e] = ret;
    this.cols.episodeLength[this.e++] = length;
  }
  /** The filled part, as a message batch. */
  view(): ActorBatch {
    const { k, e, cols: c } = this;
    const d = c.obs.length / this.size;
    const w = c.action.length / this.size;
    return {
      obs: c.obs.subarray(0, k * d),
      nextObs: c.nextObs.subarray(0, k * d),
      action: c.action.subarray(0, k * w),
      reward: c.reward.subarray(0, k),
      terminated: c.terminated.subarray(0, k),
      truncated: c.truncated.subarray(0, k),
      episodeId: c.episodeId.subarray(0, k),
      stepInEpisode: c.stepInEpisode.subarray(0, k),
      priority: c.priority.subarray(0, k),
      episodeReturn: c.episodeReturn.subarray(0, e),
      episodeLength: c.episodeLength.subarray(0, e),
    };
  }
  clear(): void {
    this.k = 0;
    this.e = 0;
    this.cols.priority.fill(NaN);
  }
}


export async function runActor(opts: ActorOptions): Promise<{ sent: number; messages: number }> {
  const config: Config = readRunConfig(opts.runDir);
  if (config.replay.transport !== "redis") {
    throw new QttdmError(`--run ${opts.runDir}: its config has replay.transport: ${config.replay.transport}; expected a run of replay.transport: redis (a distributed run)`);
  }
  const keys = new RunKeys(opts.runDir);
  const tag = `actor ${opts.index}`;
  let stopping = false;
  const stop = () => (stopping = true);
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  // Started by a learner: leave with it.
  if (process.send) process.on("disconnect", stop);

  const redis: Redis = await connectRedis(opts.url, `${tag}: --redis`, (line) => opts.print(`${tag}: ${line}`));
  // An actor restarted by hand without --incarnation must not reuse its predecessor's sequence numbers and episodes.
  const incarnation = opts.incarnation ?? (await retrying(opts.url, () => redis.hIncrBy(keys.incarnations, String(opts.index), 1))) - 1;
  await selectBackend(config.experiment.backend, config.experiment);
  const seed = actorSeed(config.experiment.seed, opts.index, incarnation);
  const vec = await makeVectorEnv(config.env.id, config.env.numEnvs, config.env.options);
  const agent = createAgent(config, vec, new Rng(seed * 4 + 1), { restoring: true });
  const actRng = new Rng(seed * 4 + 2);
  const spec = agent.replaySpec();
  const { actorBatch, streamMaxLen } = config.distributed;
  const batchSize = actorBatch + vec.num - 1;
  const estimator = PriorityEstimator.create(agent, config, 2 * batchSize);
  const pending = new PendingBatch(batchSize, vec.obsDim, vec.actionDim, spec.action.kind === "discrete");
  const call = <T>(op: () => Promise<T>) => retrying(opts.url, op);
  const link: StreamLink = { redis, keys, url: opts.url };

  let version = -1;
  /** The learner's env-step count: the step of the exploration schedule. */
  let learnerSteps = 0;
  const loadWeights = async (): Promise<boolean> => {
    const [blob, fields] = await call(() => redis.multi().get(keys.weights).hGetAll(keys.learner).exec());
    if (!blob) return false;
    agent.load(decodeAgentState(blob as unknown as Buffer));
    version = Number((fields as unknown as Record<string, Buffer>).version ?? 0);
    return true;
  };
  let sent = 0;
  let messages = 0;
  try {
    for (let polls = 1; !stopping && !(await loadWeights()); polls++) {
      if (await call(() => redis.exists(keys.stop))) return { sent, messages };
      // A learner takes a few seconds to start; longer usually means another run name or server.
      if (polls === 100) opts.print(`${tag}: still waiting for the learner's weights at ${keys.weights} on ${opts.url} (is the learner of ${opts.runDir} running against this server?)`);
      await sleep(50);
    }
    opts.print(`${tag}: pid ${process.pid}, incarnation ${incarnation}, env seed ${seed}, weights version ${version}`);
    const collector = new Collector(vec, seed);
    while (!stopping) {
      const actions = agent.act(collector.obs, vec.num, "explore", learnerSteps, actRng);
      const { batch, result } = collector.step(actions);
      estimator?.add(batch);
      for (let j = 0; j < vec.num; j++) pending.push(batch, j, vec.obsDim, vec.actionDim);
      for (const ep of result.info.episodes) pending.endEpisode(ep.return, ep.length);
      if (pending.count < actorBatch) continue;
      const k = pending.count;
      if (estimator) estimator.estimate(k, pending.cols.priority);
      if (!(await waitForRoom(link, k, () => stopping))) return { sent, messages };
      const message = encodeMessage({ actor: opts.index, incarnation, seq: messages, sentBefore: sent, weightsVersion: Math.max(0, version), batch: pending.view() }, spec);
      const learner = await sendMessage(link, message, k, streamMaxLen);
      sent += k;
      messages += 1;
      pending.clear();
      learnerSteps = learner.envSteps;
      if (learner.version > version) await loadWeights();
    }
    return { sent, messages };
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    vec.close();
    agent.dispose();
    redis.destroy();
  }
}
