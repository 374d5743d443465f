/**
 * `bench replay`: replay buffer throughput and memory on LunarLander-shaped data (obs 8, 4 actions,
 * 8 interleaved env copies, episodes of 100–400 steps).
 *
 * Figures: add rate; sample(128) + updatePriorities(128) rounds per second on a full buffer for the
 * uniform, per and reaper samplers (reaper also with the episode estimator, and how many episode
 * walks and ρ rewrites its lazy scheme did per round), drawing recycled batches as the trainer does
 * (per also with fresh batch memory); sequence draws; the ReaPER+ rebuild cost (ms per rebuild,
 * rebuilds and amortised cost per round in the run, and the amortised cost implied by the default
 * cadence over the default horizon); and the RSS of a fresh process holding a full buffer (reaper
 * with the td-spread and with the episode estimator), measured in a child process with
 * --expose-gc (baseline after imports, then after filling), so nothing else this process allocated
 * is counted. The baseline is Node itself (about 42 MB) plus the modules the buffer imports, mostly
 * zod for its config validation (about 15 MB); `rss_buffer_mb` is what the buffer adds.
 * Options: --capacity N, --rounds N.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Rng } from "../core/rng.js";
import { ReplayBuffer, type ReplayConfigInput } from "../replay/buffer.js";
import type { BenchContext, BenchFigures, Benchmark } from "./types.js";

const OBS_DIM = 8;
const ENVS = 8;
const SPEC = { obsDim: OBS_DIM, action: { kind: "discrete" as const, n: 4 }, gamma: 0.99 };

/** A generator of LunarLander-shaped transition batches (one transition per env copy per call). */
export class SyntheticVecEnv {
  private readonly rng: Rng;
  private readonly id = new Int32Array(ENVS);
  private readonly t = new Int32Array(ENVS);
  private readonly len = new Int32Array(ENVS);
  private readonly cur = new Float32Array(ENVS * OBS_DIM);
  private nextId = 0;
  readonly batch = {
    obs: new Float32Array(ENVS * OBS_DIM),
    nextObs: new Float32Array(ENVS * OBS_DIM),
    action: new Int32Array(ENVS),
    reward: new Float32Array(ENVS),
    terminated: new Uint8Array(ENVS),
    truncated: new Uint8Array(ENVS),
    episodeId: new Int32Array(ENVS),
    stepInEpisode: new Int32Array(ENVS),
  };

  constructor(seed: number) {
    this.rng = new Rng(seed);
    for (let e = 0; e < ENVS; e++) this.reset(e);
  }

  private reset(e: number): void {
    this.id[e] = this.nextId++;
    this.t[e] = 0;
    this.len[e] = this.rng.integers(100, 401);
    for (let k = 0; k < OBS_DIM; k++) this.cur[e * OBS_DIM + k] = this.rng.uniform(-1, 1);
  }

  step(): typeof this.batch {
    const b = this.batch;
    for (let e = 0; e < ENVS; e++) {
      for (let k = 0; k < OBS_DIM; k++) {
        const x = this.cur[e * OBS_DIM + k]!;
        b.obs[e * OBS_DIM + k] = x;
        const y = Math.fround(x + 0.05 * (this.rng.random() - 0.5));
        b.nextObs[e * OBS_DIM + k] = y;
        this.cur[e * OBS_DIM + k] = y;
      }
      b.action[e] = this.rng.integers(0, 4);
      b.reward[e] = this.rng.uniform(-2, 2);
      b.episodeId[e] = this.id[e]!;
      b.stepInEpisode[e] = this.t[e]!;
      const last = this.t[e]! + 1 === this.len[e];
      b.terminated[e] = last && this.id[e]! % 5 !== 0 ? 1 : 0;
      b.truncated[e] = last && this.id[e]! % 5 === 0 ? 1 : 0;
      if (last) this.reset(e);
      else this.t[e]!++;
    }
    return b;
  }
}

/** Fill `buf` with `count` transitions; returns the seconds spent inside `add`. */
export function fillSynthetic(buf: ReplayBuffer, count: number, seed = 1): number {
  const env = new SyntheticVecEnv(seed);
  let ms = 0;
  for (let n = 0; n < count; n += ENVS) {
    const b = env.step();
    const t0 = performance.now();
    buf.add(b);
    ms += performance.now() - t0;
  }
  return ms / 1000;
}

/** Pseudo TD errors and spreads the rounds report, drawn before the clock starts (not buffer work). */
class TdPool {
  private static readonly SIZE = 1 << 16;
  readonly td = new Float32Array(TdPool.SIZE);
  readonly tdStd = new Float32Array(TdPool.SIZE);

  constructor(seed: number) {
    const rng = new Rng(seed);
    for (let j = 0; j < TdPool.SIZE; j++) {
      this.td[j] = (rng.random() - 0.5) * 4;
      this.tdStd[j] = rng.random();
    }
  }

  /** The `batch` values of round r (windows that overlap, at a stride coprime to the pool size). */
  at(r: number, batch: number): { tdError: Float32Array; tdStd: Float32Array } {
    const o = (r * 97) % (TdPool.SIZE - batch);
    return { tdError: this.td.subarray(o, o + batch), tdStd: this.tdStd.subarray(o, o + batch) };
  }
}

/**
 * Rounds of sample(batch) + updatePriorities(batch) per second; also returns the buffer's rebuild
 * time. `recycle` draws as the trainer does (each batch over the previous one's memory).
 */
function rounds(buf: ReplayBuffer, count: number, batch: number, stepOffset: number, recycle: boolean): { perS: number; perCpuS: number; refreshMs: number; refreshes: number } {
  const rng = new Rng(11);
  const tds = new TdPool(12);
  const ms0 = buf.refreshMs;
  const r0 = buf.samplerState().refreshes;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < count; r++) {
    const b = buf.sample(batch, rng, stepOffset + r, { recycle });
    buf.updatePriorities(b.indices, tds.at(r, batch), b.sampledAt);
  }
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  return { perS: count / s, perCpuS: count / cpuS, refreshMs: buf.refreshMs - ms0, refreshes: buf.samplerState().refreshes - r0 };
}

/** RSS of a child process holding a full buffer (needs the compiled module; null under a TS loader). */
function childRss(capacity: number, config: ReplayConfigInput): { baseline: number; full: number; bytes: number } | null {
  const self = import.meta.url;
  if (!self.endsWith(".js")) return null;
  const script = `
    const m = await import(${JSON.stringify(self)});
    const { ReplayBuffer } = await import(${JSON.stringify(new URL("../replay/buffer.js", self).href)});
    const rss = () => { globalThis.gc(); globalThis.gc(); return process.memoryUsage().rss; };
    const baseline = rss();
    const buf = new ReplayBuffer(${JSON.stringify(SPEC)}, { ...${JSON.stringify(config)}, capacity: ${capacity} });
    m.fillSynthetic(buf, ${capacity}, 3);
    const full = rss();
    process.stdout.write(JSON.stringify({ baseline, full, bytes: buf.bytes(), size: buf.size }));
  `;
  const res = spawnSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], { encoding: "utf8", cwd: fileURLToPath(new URL(".", self)) });
  if (res.status !== 0) throw new Error(`replay bench: RSS child failed (${res.status}): ${res.stderr}`);
  return JSON.parse(res.stdout) as { baseline: number; full: number; bytes: number };
}

async function run(ctx: BenchContext): Promise<BenchFigures> {
  const capacity = Number(ctx.options.capacity ?? (ctx.quick ? 100_000 : 1_000_000));
  const count = Number(ctx.options.rounds ?? (ctx.quick ? 1_000 : 20_000));
  const batch = 128;
  const mb = (b: number) => Math.round(b / 1e4) / 100;
  const fig: BenchFigures = { capacity, rounds: count, batch, note: "shared CPU: figures are indicative" };

  const samplers: Array<[string, ReplayConfigInput]> = [
    ["uniform", { sampler: "uniform" }],
    ["per", { sampler: "per" }],
    ["reaper", { sampler: "reaper" }],
    ["reaper_episode", { sampler: "reaper", reliability: "episode" }],
  ];
  for (const [name, cfg] of samplers) {
    const buf = new ReplayBuffer(SPEC, { capacity, ...cfg });
    const addS = fillSynthetic(buf, capacity);
    fig[`${name}_add_transitions_per_s`] = Math.round(capacity / addS);
    rounds(buf, Math.min(200, count), batch, 0, true); // warm-up (JIT)
    const before = buf.samplerState();
    const r = rounds(buf, count, batch, 200, true);
    fig[`${name}_rounds_per_s`] = Math.round(r.perS);
    // Rounds per second of this process's own CPU time: less sensitive to other processes.
    fig[`${name}_rounds_per_cpu_s`] = Math.round(r.perCpuS);
    ctx.log(`${name}: add ${fig[`${name}_add_transitions_per_s`]} transitions/s, sample+update(${batch}) ${Math.round(r.perS)} rounds/s (${Math.round(r.perCpuS)} per CPU-s)`);
    if (name === "per") {
      // Batches in new memory each round (callers that keep batches): the cost of not recycling.
      const f = rounds(buf, count, batch, 200 + count, false);
      fig.per_fresh_batches_rounds_per_s = Math.round(f.perS);
      ctx.log(`per, fresh batch memory each round: ${Math.round(f.perS)} rounds/s`);
    }
    if (name === "reaper_episode") {
      const after = buf.samplerState();
      fig.reaper_episode_walks_per_round = Math.round(((after.walks! - before.walks!) / count) * 100) / 100;
      fig.reaper_episode_rewrites_per_round = Math.round(((after.rewrites! - before.rewrites!) / count) * 100) / 100;
      fig.reaper_episode_buffer_bytes_mb = mb(buf.bytes());
    }
    if (name === "reaper") {
      fig.reaper_refreshes_in_run = r.refreshes;
      fig.reaper_refresh_amortised_us_per_round = Math.round((r.refreshMs * 1000) / count * 10) / 10;
      const reps = ctx.quick ? 3 : 5;
      const t0 = performance.now();
      for (let k = 0; k < reps; k++) buf.refresh();
      const perRefresh = (performance.now() - t0) / reps;
      fig.reaper_refresh_ms = Math.round(perRefresh * 10) / 10;
      // Default cadence over the default horizon: α moves 0.6 and β 0.5 with tolerance 0.01 (one
      // rebuild per 1/60 of the horizon), plus one per refreshEvery updates (none by default);
      // rebuilds from ū's drift come on top (counted in reaper_refreshes_in_run).
      const c = buf.config;
      const byTolerance = Math.ceil(Math.max(Math.abs(c.reaperAlphaEnd - c.reaperAlphaStart), Math.abs(c.reaperBetaEnd - c.reaperBetaStart)) / c.refreshTolerance) + 1;
      const byCount = c.refreshEvery > 0 ? Math.floor(c.reaperHorizon / c.refreshEvery) : 0;
      fig.reaper_refreshes_per_horizon_default = byTolerance + byCount;
      fig.reaper_refresh_amortised_us_per_round_default = Math.round(((byTolerance + byCount) * perRefresh * 1000) / c.reaperHorizon * 100) / 100;
      const rng = new Rng(5);
      const seqN = ctx.quick ? 50 : 500;
      const t1 = performance.now();
      for (let k = 0; k < seqN; k++) buf.sampleSequences(32, 20, rng, 1000);
      fig.sequences_32x20_per_s = Math.round(seqN / ((performance.now() - t1) / 1000));
      fig.buffer_bytes_mb = mb(buf.bytes());
    }
  }

  const rss = childRss(capacity, { sampler: "reaper" });
  const rssEpisode = childRss(capacity, { sampler: "reaper", reliability: "episode" });
  if (rss && rssEpisode) {
    fig.rss_mb = mb(rss.full);
    fig.rss_baseline_mb = mb(rss.baseline);
    fig.rss_buffer_mb = mb(rss.full - rss.baseline);
    fig.rss_episode_buffer_mb = mb(rssEpisode.full - rssEpisode.baseline);
    fig.rss_method = "child process, --expose-gc, after imports vs after filling a reaper buffer (td-spread; episode)";
  } else {
    fig.rss_method = "skipped: needs the compiled module (run from dist)";
  }
  ctx.log(`RSS: ${fig.rss_mb} MB total, ${fig.rss_buffer_mb} MB for the buffer (accounted ${fig.buffer_bytes_mb} MB); with the episode estimator ${fig.rss_episode_buffer_mb} MB (accounted ${fig.reaper_episode_buffer_bytes_mb} MB)`);
  return fig;
}

export const replayBenchmark: Benchmark = {
  name: "replay",
  description: "Replay buffer: add rate, sample+update rounds/s (uniform, per, reaper), ReaPER+ rebuild cost, RSS of a full buffer",
  run,
};

export default replayBenchmark;
