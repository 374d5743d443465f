/**
 * The projection part of `bench distributed`: how a preset's distributed run would scale with 8, 32 and 128
 * actors, from three rates measured here on one thread each, through a bottleneck model.
 *
 * Measured: an actor's transitions/s (the preset's vector env, explore actions at the end of the exploration
 * schedule, so a planner plans, and the Ape-X priority probe: what `qttdm actor` does per transition), the
 * learner's seconds per update (the trainer's update and priority write-back on a buffer filled with explore actions
 * at step 0, uniform for the presets), and its seconds per inserted transition (the transport figure of the same benchmark).
 *
 * Model (Ape-X's and Reverb's setting: actors on their own cores, one learner): at samples-per-insert spi and
 * batch B every inserted transition costs the learner spi/B updates plus one insert, so it takes at most
 * C = 1 / (spi/B · t_update + t_insert) transitions/s; N actors offer N · r_actor. The run gets min(N · r_actor, C);
 * the learner is busy that / C of the time, each actor that / (N · r_actor) (the rest it waits on back-pressure).
 * Projected at the preset's spi, where one learner update per few transitions leaves actors little to add, and at
 * spi 1 and 0.25, the regime of Ape-X (many actors, each transition sampled about once or less).
 * Not modelled: contention between processes sharing cores (on this 2-core machine only N = 1 has a core each),
 * Redis itself (one XADD per actorBatch transitions, far below its ~10^5 commands/s), and network latency.
 */
import type { ReplaySource } from "../agents/types.js";
import { loadConfig } from "../config/load.js";
import { Rng } from "../core/rng.js";
import { selectBackend } from "../backend/index.js";
import { PriorityEstimator } from "../distributed/priorities.js";
import { rateLimits } from "../distributed/rate-limiter.js";
import { makeVectorEnv } from "../envs/index.js";
import { ReplayBuffer } from "../replay/buffer.js";
import { createAgent } from "../train/agents.js";
import { Collector } from "../train/collector.js";
import type { BenchContext, BenchFigures } from "./types.js";

export const PROJECTED_ACTORS = [1, 2, 8, 32, 128] as const;
/** Ratios projected besides the preset's: Ape-X ran its learner near 0.2 sampled per inserted transition. */
export const PROJECTED_SAMPLES_PER_INSERT = [1, 0.25] as const;

export interface ProjectionInputs {
  actorTransitionsPerS: number;
  updateSeconds: number;
  insertSeconds: number;
  samplesPerInsert: number;
  batchSize: number;
}

/** The bottleneck model of the module doc, for `actors` actors. */
export function projectRun(p: ProjectionInputs, actors: number): { transitionsPerS: number; learnerUtilisation: number; actorUtilisation: number } {
  const capacity = 1 / ((p.samplesPerInsert / p.batchSize) * p.updateSeconds + p.insertSeconds);
  const offered = actors * p.actorTransitionsPerS;
  const transitionsPerS = Math.min(offered, capacity);
  return { transitionsPerS, learnerUtilisation: transitionsPerS / capacity, actorUtilisation: transitionsPerS / offered };
}

/** Measures the actor and learner rates of `preset` and projects them with the transport's insert cost. */
export async function projectPreset(ctx: BenchContext, preset: string, backend: string, transportPerS: number): Promise<BenchFigures> {
  const config = loadConfig({ config: preset, set: [`experiment.backend=${backend}`, "experiment.threads=1"] });
  const info = await selectBackend(config.experiment.backend, config.experiment);
  const vec = await makeVectorEnv(config.env.id, config.env.numEnvs, config.env.options);
  const agent = createAgent(config, vec, new Rng(1));
  const rng = new Rng(2);
  const seconds = ctx.quick ? 1 : 10;
  try {
    // Learner: a buffer large enough for every sampler and sequence length, of the explore actions at step 0
    // (uniform for the presets: ε = 1, or SAC before learning starts), as bench learner fills its own.
    const buffer = new ReplayBuffer(agent.replaySpec(), { ...config.replay, capacity: Math.min(config.replay.capacity, 1 << 16) });
    const filler = new Collector(vec, 1);
    const fill = Math.max(2_000, 4 * config.train.batchSize);
    while (buffer.size < fill) buffer.add(filler.step(agent.act(filler.obs, vec.num, "explore", 0, rng)).batch);
    let updates = 0;
    const source: ReplaySource = {
      sample: (n) => buffer.sample(n, rng, updates, { recycle: true }),
      sampleSequences: (n, len) => buffer.sampleSequences(n, len, rng, updates, { recycle: true }),
      sampleObservations: (n) => buffer.sampleObservations(n, rng),
    };
    const update = () => {
      const u = agent.update(source);
      buffer.updatePriorities(u.indices, { tdError: u.tdError, tdStd: u.tdStd, surprise: u.surprise }, u.sampledAt);
      updates += 1;
    };
    const timed = (step: () => number, warm: number) => {
      for (let i = 0; i < warm; i++) step();
      let done = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < seconds * 1000 || done === 0) done += step();
      return done / ((performance.now() - t0) / 1000);
    };
    const updatesPerS = timed(() => (update(), 1), 3);
    // Actor: acting past the exploration schedule's start (planners plan then), stepping and the priority probe.
    const collector = new Collector(vec, 2);
    const estimator = PriorityEstimator.create(agent, config, 2 * (config.distributed.actorBatch + vec.num));
    const late = config.experiment.totalSteps;
    const priorities = new Float32Array(vec.num);
    const actorPerS = timed(() => {
      const { batch } = collector.step(agent.act(collector.obs, vec.num, "explore", late, rng));
      if (estimator) {
        estimator.add(batch);
        estimator.estimate(vec.num, priorities);
      }
      return vec.num;
    }, 3);
    const { samplesPerInsert } = rateLimits(config);
    const inputs: ProjectionInputs = { actorTransitionsPerS: actorPerS, updateSeconds: 1 / updatesPerS, insertSeconds: 1 / transportPerS, samplesPerInsert, batchSize: config.train.batchSize };
    ctx.log(`${preset} on ${info.name}: an actor makes ${actorPerS.toFixed(1)} transitions/s; the learner ${updatesPerS.toFixed(1)} updates/s at batch ${config.train.batchSize}, samplesPerInsert ${samplesPerInsert}`);
    const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
    const figs: BenchFigures = {
      projection_preset: preset,
      projection_backend: info.name,
      actor_transitions_per_s: round(actorPerS, 1),
      learner_updates_per_s: round(updatesPerS, 2),
      samples_per_insert: samplesPerInsert,
    };
    for (const spi of [samplesPerInsert, ...PROJECTED_SAMPLES_PER_INSERT.filter((x) => x !== samplesPerInsert)]) {
      ctx.log(`  projected at samplesPerInsert ${spi}:`);
      for (const n of PROJECTED_ACTORS) {
        const p = projectRun({ ...inputs, samplesPerInsert: spi }, n);
        ctx.log(`  ${String(n).padStart(5)} actors: ${p.transitionsPerS.toFixed(1)} transitions/s, learner busy ${(100 * p.learnerUtilisation).toFixed(0)}%, actors busy ${(100 * p.actorUtilisation).toFixed(0)}%`);
        const key = `projected_spi${spi}_${n}_actors`;
        figs[`${key}_transitions_per_s`] = round(p.transitionsPerS, 1);
        figs[`${key}_learner_utilisation`] = round(p.learnerUtilisation);
        figs[`${key}_actor_utilisation`] = round(p.actorUtilisation);
      }
    }
    return figs;
  } finally {
    agent.dispose();
    vec.close();
  }
}
