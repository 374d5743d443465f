/**
 * The learner's side of replay.transport: redis, as the trainer's experience source. It owns the replay
 * buffer (unchanged: local sampling and priority updates), drains the actors' stream into it, sets the number
 * of updates with Reverb's SampleToInsertRatio (rate-limiter.ts), publishes the insert limit the actors wait
 * on and, every distributed.weightSyncEvery updates, its weights. It starts the private redis-server when
 * no redis.url is given and supervises distributed.actors actor processes.
 *
 * Episode ids: each actor numbers its own episodes; the learner maps (actor, incarnation, episode) to ids of
 * its own, and starts a new id when a transition does not continue the mapped episode (lost messages), so the
 * buffer's episode chains stay whole.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Agent, Scalars } from "../agents/types.js";
import type { Config } from "../config/schema.js";
import { QttdmError } from "../core/errors.js";
import { ReplayDataError, type ReplayBuffer } from "../replay/buffer.js";
import type { Collected, ExperienceSource } from "../train/experience.js";
import type { TrainerState } from "../train/trainer-state.js";
import { decodeMessage, MessageError, type ActorMessage } from "./codec.js";
import { rateLimits, SampleToInsertRatio } from "./rate-limiter.js";
import { connectRedis, retrying, RunKeys, startRedisServer, type Redis, type RedisServer } from "./redis.js";
import { Supervisor, type ActorExit } from "./supervisor.js";
import { encodeAgentState } from "./weights.js";

/** How long a stopping learner waits for actors started by hand to leave its private server. */
const ACTORS_LEAVE_MS = 5_000;

/** Messages read per XREAD; the wait when the rate limiter allows no update (short, so signals are handled). */
const READ_COUNT = 256;
const BLOCK_MS = 100;

type DistributedState = NonNullable<TrainerState["distributed"]>;

export interface LearnerOptions {
  config: Config;
  runDir: string;
  buffer: ReplayBuffer;
  agent: Agent;
  say: (line: string) => void;
  resumed: TrainerState | null;
}

export class DistributedLearner implements ExperienceSource {
  private readonly limiter: SampleToInsertRatio;
  private readonly keys: RunKeys;
  private readonly batchSize: number;
  /** The last stream id read; the stream is deleted at open, so reading starts at its beginning ("$" would skip what arrives between two reads). */
  private lastId = "0-0";
  private counters: DistributedState;
  /** (actor:incarnation:episode) → [learner episode id, its last step]. */
  private readonly episodes = new Map<string, [number, number]>();
  /** actor:incarnation → [next expected seq, transitions sent through it]. */
  private readonly actorsSeen = new Map<string, [number, number]>();
  private publishedVersion = -1;
  private republish = true;
  private queueDepth = 0;
  private supervisor: Supervisor | null = null;
  private window = { start: performance.now(), envSteps: 0, updates: 0, waitMs: 0, lagSum: 0, lagCount: 0 };
  private progress = { envSteps: 0, updates: 0 };
  /** Sent transitions that never reached the buffer: added to the insert limit so the actors are not held back for them. */
  private undelivered = 0;

  private constructor(
    private readonly opts: LearnerOptions,
    private readonly redis: Redis,
    private readonly url: string,
    private readonly server: RedisServer | null,
  ) {
    this.limiter = new SampleToInsertRatio(rateLimits(opts.config));
    this.keys = new RunKeys(opts.runDir);
    this.batchSize = opts.config.train.batchSize;
    this.counters = opts.resumed?.distributed ?? { nextEpisodeId: 0, nextIncarnation: 0, rejectedMessages: 0, lostTransitions: 0, actorRestarts: 0 };
    // After a server restart its keys are gone: publish everything again.
    redis.on("ready", () => (this.republish = true));
  }

  static async open(opts: LearnerOptions): Promise<DistributedLearner> {
    const { config, say } = opts;
    if (opts.resumed && !opts.resumed.distributed) throw new QttdmError(`cannot resume ${opts.runDir} with replay.transport: redis: its checkpoint was written by the local trainer`);
    const server = config.redis.url === null ? await startRedisServer({ dir: opts.runDir }) : null;
    const url = server?.url ?? config.redis.url!;
    if (server) say(`redis: started a private redis-server (pid ${server.pid}) at ${url}`);
    let redis: Redis | null = null;
    let learner: DistributedLearner;
    try {
      redis = await connectRedis(url, "redis.url", say);
      learner = new DistributedLearner(opts, redis, url, server);
      const envSteps = opts.resumed?.envSteps ?? 0;
      const updates = opts.resumed?.updates ?? 0;
      learner.progress = { envSteps, updates };
      learner.window = { ...learner.window, envSteps, updates };
      const k = learner.keys;
      await redis.del([k.stream, k.stop, k.weights, k.learner]);
      await learner.publish();
    } catch (err) {
      redis?.destroy();
      await server?.stop();
      throw err;
    }
    const limits = learner.limiter.limits;
    say(`distributed: ${config.distributed.actors} actor process(es) via ${url}; samplesPerInsert ${limits.samplesPerInsert}, minSizeToSample ${limits.minSizeToSample}, errorBuffer ${limits.errorBuffer}`);
    if (config.distributed.actors > 0) {
      const first = learner.counters.nextIncarnation;
      learner.supervisor = new Supervisor(config.distributed.actors, opts.runDir, url, say, (exit) => learner.actorDied(exit), first);
    } else {
      say(`distributed: waiting for actors: qttdm actor --run ${opts.runDir} --redis ${url} --index I`);
    }
    return learner;
  }

  private call<T>(op: () => Promise<T>): Promise<T> {
    return retrying(this.url, op);
  }

  /** The learner's counters for the actors (and the weights when due), and the actors' sent count, in one round trip. */
  private async publish(): Promise<void> {
    const { envSteps, updates } = this.progress;
    const weightsDue = this.republish || updates - this.publishedVersion >= this.opts.config.distributed.weightSyncEvery;
    const republish = this.republish;
    this.republish = false;
    const samples = updates * this.batchSize;
    // The queue is bounded too: at most half the stream's cap of unread messages, so MAXLEN ~ trims only what was read.
    const { streamMaxLen, actorBatch } = this.opts.config.distributed;
    const queueCap = Math.floor(streamMaxLen / 2) * actorBatch;
    const insertLimit = Math.min(this.limiter.insertLimit(samples), envSteps + queueCap) + this.undelivered;
    const blob = weightsDue ? encodeAgentState(this.opts.agent.state()) : null;
    const k = this.keys;
    const replies = await this.call(() => {
      const m = this.redis.multi();
      // The sent counter restarts from the learner's count when the server lost it (or at the start).
      if (republish) m.set(k.sent, String(envSteps + this.undelivered));
      if (blob) m.set(k.weights, blob);
      m.hSet(k.learner, { insertLimit: String(insertLimit), envSteps: String(envSteps), updates: String(updates), ...(blob ? { version: String(updates) } : {}) });
      m.get(k.sent);
      return m.exec();
    });
    if (blob) this.publishedVersion = updates;
    // Sent by the actors, neither inserted nor known lost: what waits in the stream.
    this.queueDepth = Math.max(0, Number(replies[replies.length - 1] ?? 0) - envSteps - this.undelivered);
  }

  async collect(progress: { envSteps: number; updates: number }): Promise<Collected> {
    if (this.supervisor?.failure) throw this.supervisor.failure;
    this.progress = progress;
    await this.publish();
    const allowed = this.limiter.updatesAllowed(progress.envSteps, progress.updates * this.batchSize, this.batchSize);
    const t0 = performance.now();
    const read = await this.call(() =>
      this.redis.xRead({ key: this.keys.stream, id: this.lastId }, allowed > 0 ? { COUNT: READ_COUNT } : { COUNT: READ_COUNT, BLOCK: BLOCK_MS }),
    );
    const collected: Collected = { steps: 0, episodes: [] };
    const streams = read as unknown as { messages: { id: Buffer; message: Record<string, Buffer> }[] }[] | null;
    // Time in a blocking read is time the learner waited for data.
    if (allowed === 0) this.window.waitMs += performance.now() - t0;
    if (!streams || streams.length === 0) return collected;
    for (const { id, message } of streams[0]!.messages) {
      this.lastId = id.toString();
      let msg: ActorMessage;
      try {
        const raw = message.m;
        if (!raw) throw new MessageError(`no field "m" (fields: ${Object.keys(message).join(", ") || "none"})`);
        msg = decodeMessage(raw, this.opts.buffer.spec);
      } catch (err) {
        if (!(err instanceof MessageError)) throw err;
        this.reject(`message ${this.lastId}: ${err.message}`);
        continue;
      }
      const k = msg.batch.reward.length;
      try {
        this.insert(msg);
      } catch (err) {
        if (!(err instanceof ReplayDataError)) throw err;
        this.undelivered += k;
        this.reject(`message ${this.lastId} from actor ${msg.actor}: ${err.message}`);
        continue;
      }
      collected.steps += k;
      for (let e = 0; e < msg.batch.episodeReturn.length; e++) collected.episodes.push({ return: msg.batch.episodeReturn[e]!, length: msg.batch.episodeLength[e]! });
      this.window.lagSum += Math.max(0, progress.updates - msg.weightsVersion);
      this.window.lagCount += 1;
      this.supervisor?.delivered(msg.actor);
    }
    return collected;
  }

  private reject(why: string): void {
    this.counters.rejectedMessages += 1;
    // Every rejection counts; the first few are shown, then every hundredth.
    const n = this.counters.rejectedMessages;
    if (n <= 5 || n % 100 === 0) this.opts.say(`distributed: rejected ${why} (${n} rejected so far)`);
  }

  /** Maps the actor's episode ids, detects lost messages, inserts, and applies the actor's priorities. */
  private insert(msg: ActorMessage): void {
    const { batch } = msg;
    const k = batch.reward.length;
    const source = `${msg.actor}:${msg.incarnation}`;
    const seen = this.actorsSeen.get(source) ?? [0, 0];
    if (!this.actorsSeen.has(source)) this.forgetEarlierIncarnations(msg.actor, msg.incarnation);
    if (msg.seq < seen[0]) {
      // An XADD retried after its reply was lost in a reconnection: the first copy is in already.
      throw new ReplayDataError(`message ${msg.seq} of actor ${msg.actor} (incarnation ${msg.incarnation}) arrived twice; the copy is dropped`);
    }
    if (msg.seq > seen[0]) {
      const lost = msg.sentBefore - seen[1];
      this.counters.lostTransitions += lost;
      this.undelivered += lost;
      this.opts.say(`distributed: ${msg.seq - seen[0]} message(s) (${lost} transitions) of actor ${msg.actor} were lost (trimmed from the stream unread)`);
    }
    this.actorsSeen.set(source, [msg.seq + 1, msg.sentBefore + k]);
    const episodeId = new Int32Array(k);
    for (let j = 0; j < k; j++) {
      const key = `${source}:${batch.episodeId[j]}`;
      const step = batch.stepInEpisode[j]!;
      let entry = this.episodes.get(key);
      if (!entry || entry[1] + 1 !== step) {
        entry = [this.counters.nextEpisodeId++, step];
        this.episodes.set(key, entry);
      }
      entry[1] = step;
      episodeId[j] = entry[0];
      if (batch.terminated[j] || batch.truncated[j]) this.episodes.delete(key);
    }
    const { buffer } = this.opts;
    const head = buffer.store.head;
    buffer.add({ ...batch, episodeId });
    // The ensemble estimator needs the heads' spread, which an actor does not send: its new transitions keep
    // the buffer's max priority.
    if (buffer.config.sampler === "uniform" || buffer.config.reliability === "ensemble") return;
    const idx: number[] = [];
    const td: number[] = [];
    for (let j = 0; j < k; j++) {
      if (!Number.isFinite(batch.priority[j]!)) continue;
      idx.push((head + j) % buffer.capacity);
      td.push(batch.priority[j]!);
    }
    if (idx.length) buffer.updatePriorities(Int32Array.from(idx), { tdError: Float32Array.from(td) }, buffer.added);
  }

  private forgetEarlierIncarnations(actor: number, incarnation: number): void {
    for (const key of this.episodes.keys()) {
      const [a, inc] = key.split(":").map(Number);
      if (a === actor && inc! < incarnation) this.episodes.delete(key);
    }
  }

  private actorDied(exit: ActorExit): string {
    this.counters.actorRestarts += 1;
    const sent = this.actorsSeen.get(`${exit.index}:${exit.incarnation}`)?.[1] ?? 0;
    const { actorBatch } = this.opts.config.distributed;
    const most = actorBatch + this.opts.config.env.numEnvs - 1;
    return `it had sent ${sent} transitions; the transitions it had collected but not sent (its unsent batch, at most ${most}) are lost`;
  }

  updatesDue(_before: number, after: number, updates: number): number {
    return this.limiter.updatesAllowed(after, updates * this.batchSize, this.batchSize);
  }

  state() {
    return { distributed: { ...this.counters, nextIncarnation: this.supervisor?.nextIncarnation ?? this.counters.nextIncarnation } };
  }

  scalars(): Scalars {
    const now = performance.now();
    const w = this.window;
    const seconds = Math.max(1e-3, (now - w.start) / 1000);
    const { envSteps, updates } = this.progress;
    const out: Scalars = {
      "distributed/inserts_per_s": (envSteps - w.envSteps) / seconds,
      "distributed/samples_per_s": ((updates - w.updates) * this.batchSize) / seconds,
      "distributed/actor_lag_updates": w.lagCount ? w.lagSum / w.lagCount : 0,
      "distributed/queue_depth_transitions": this.queueDepth,
      "distributed/learner_wait_s": w.waitMs / 1000,
      "distributed/rejected_messages": this.counters.rejectedMessages,
      "distributed/lost_transitions": this.counters.lostTransitions,
      "distributed/actor_restarts": this.counters.actorRestarts,
    };
    this.window = { start: now, envSteps, updates, waitMs: 0, lagSum: 0, lagCount: 0 };
    return out;
  }

  /** Tells the actors to stop, stops the ones it started and the private server (by PID). */
  async close(): Promise<void> {
    // When the server is gone this fails or hangs until destroy(); the supervisor's SIGTERM stops the actors then.
    const told = this.redis.set(this.keys.stop, "1").then(
      () => true,
      () => false,
    );
    const stopSet = await Promise.race([told, sleep(2_000, false, { ref: false })]);
    await this.supervisor?.stop();
    // Actors started by hand read the stop key at their next send; a private server stopped before that would leave
    // them reconnecting to nothing until they give up. So wait (a few seconds at most) until they have gone.
    if (stopSet && this.server) await this.untilOnlyClient(ACTORS_LEAVE_MS);
    this.redis.destroy();
    await this.server?.stop();
  }

  /** Waits until this learner is the server's only client, or `ms` has passed. */
  private async untilOnlyClient(ms: number): Promise<void> {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(50, undefined, { ref: false })) {
      const info = String(await this.redis.info("clients").catch(() => ""));
      if (Number(/connected_clients:(\d+)/.exec(info)?.[1] ?? 1) <= 1) return;
    }
  }
}
