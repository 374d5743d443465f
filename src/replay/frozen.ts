/**
 * Frozen-buffer replay: what a saved buffer holds (`qttdm replay inspect <file>`), and the sampling
 * schedule re-run on it (`qttdm replay schedule <file> --steps N --seed S --out F`).
 *
 * The schedule re-run calls `sample(batchSize, rng, step)` for steps startStep … startStep+N−1 with
 * `new Rng(seed)` and no priority updates in between; sampling depends only on the buffer state, the
 * step and the Rng, so the same file, seed and steps always give the same indices and reliabilities,
 * equal to those the training process drew from the same state with the same generator.
 */
import { open, rename, unlink } from "node:fs/promises";
import { Rng } from "../core/rng.js";
import { ReplayBuffer } from "./buffer.js";
import type { ReplayConfig } from "./config.js";
import type { ReplaySpec } from "./storage.js";
import { distribution, type Distribution } from "./telemetry.js";

export interface ReplayInspection {
  spec: ReplaySpec;
  config: ReplayConfig;
  size: number;
  capacity: number;
  added: number;
  megabytes: number;
  episodes: { count: number; ended: number; meanStoredLength: number };
  /** Share of stored transitions whose TD error has been reported at least once. */
  reportedFrac: number;
  tdAbs: Distribution;
  reliability: Distribution;
  /** Counts of the reliability 1 − ρ in 10 equal bins over [0, 1]. */
  reliabilityHistogram: number[];
  /** Raw unreliability statistic (TD-error spread, ensemble std, or ρ for the episode rule). */
  unreliability: Distribution;
  surprise: Distribution;
  timesSampled: Distribution;
  reward: Distribution;
  /** Sampling probabilities (prioritised samplers): distribution of N·P(i), and the effective
   *  sample size (Σp)²/Σp² as a share of N. */
  priority: { nP: Distribution; effectiveFrac: number } | null;
  sampler: Record<string, number>;
}

export function inspectBuffer(buf: ReplayBuffer): ReplayInspection {
  const n = buf.size;
  const st = buf.store;
  const rel = new Float32Array(n);
  const lastTd = buf.statistic("tdError");
  const hist = new Array<number>(10).fill(0);
  let reported = 0;
  for (let i = 0; i < n; i++) {
    const r = buf.reliability(i);
    rel[i] = r;
    hist[Math.min(9, Math.floor(r * 10))]!++;
    if (lastTd[i] === lastTd[i]) reported++;
  }
  const td = new Float32Array(n);
  for (let i = 0; i < n; i++) td[i] = Math.abs(lastTd[i]!);
  let ended = 0;
  let stored = 0;
  const ep = st.episodes;
  ep.forEach((s) => {
    ended += ep.finished[s]!;
    stored += ep.length[s]!;
  });
  let priority: ReplayInspection["priority"] = null;
  if (buf.tree && n > 0) {
    const nP = new Float64Array(n);
    const total = buf.tree.total();
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const p = buf.tree.get(i) / total;
      nP[i] = n * p;
      sq += p * p;
    }
    priority = { nP: distribution(nP), effectiveFrac: 1 / sq / n };
  }
  return {
    spec: buf.spec,
    config: buf.config,
    size: n,
    capacity: buf.capacity,
    added: buf.added,
    megabytes: buf.bytes() / 1e6,
    episodes: { count: ep.count, ended, meanStoredLength: ep.count > 0 ? stored / ep.count : 0 },
    reportedFrac: n > 0 ? reported / n : 0,
    tdAbs: distribution(td),
    reliability: distribution(rel),
    reliabilityHistogram: hist,
    unreliability: distribution(buf.statistic("unreliability")),
    surprise: distribution(buf.statistic("surprise")),
    timesSampled: distribution(buf.statistic("timesSampled")),
    reward: distribution(Float32Array.from({ length: n }, (_, i) => st.rewardOf(i))),
    priority,
    sampler: { ...buf.samplerState() },
  };
}

const fmt = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : String(x));
const line = (name: string, d: Distribution) =>
  `  ${name.padEnd(15)} n=${d.count}  mean ${fmt(d.mean)}  min ${fmt(d.min)}  p10 ${fmt(d.p10)}  p50 ${fmt(d.p50)}  p90 ${fmt(d.p90)}  p99 ${fmt(d.p99)}  max ${fmt(d.max)}`;

/** Printable text of an inspection. */
export function formatInspection(x: ReplayInspection): string {
  const a = x.spec.action;
  const out = [
    `replay buffer: ${x.size} / ${x.capacity} transitions (${x.added} ever added), ${fmt(x.megabytes)} MB`,
    `  obs dim ${x.spec.obsDim}, action ${a.kind === "discrete" ? `discrete(${a.n})` : `continuous(${a.dim})`}, gamma ${x.spec.gamma}`,
    `  sampler ${x.config.sampler}, reliability ${x.config.reliability}, nStep ${x.config.nStep}, isCorrection ${x.config.isCorrection}`,
    `  episodes: ${x.episodes.count} stored (${x.episodes.ended} ended), mean stored length ${fmt(x.episodes.meanStoredLength)}`,
    `  TD error reported for ${fmt(100 * x.reportedFrac)}% of transitions`,
    line("|td error|", x.tdAbs),
    line("reliability", x.reliability),
    line("unreliability", x.unreliability),
    line("surprise", x.surprise),
    line("times sampled", x.timesSampled),
    line("reward", x.reward),
    `  reliability histogram (10 bins over [0, 1]): ${x.reliabilityHistogram.join(" ")}`,
  ];
  if (x.priority) {
    out.push(line("N·P(i)", x.priority.nP), `  effective sample size ${fmt(100 * x.priority.effectiveFrac)}% of N`);
  }
  const s = x.sampler;
  out.push(`  sampler state: ${Object.entries(s).map(([k, v]) => `${k} ${fmt(v)}`).join(", ")}`);
  return out.join("\n");
}

export async function inspectReplayFile(path: string): Promise<{ json: ReplayInspection; text: string }> {
  const json = inspectBuffer(await ReplayBuffer.load(path));
  return { json, text: formatInspection(json) };
}

export interface ScheduleOptions {
  steps: number;
  seed: number;
  /** Default: the batch size of the buffer's last sample call (128 if it was never sampled). */
  batchSize?: number;
  /** Default: the step after the buffer's last sample call (0 if never sampled). */
  startStep?: number;
}

export interface ScheduleTrace {
  seed: number;
  batchSize: number;
  startStep: number;
  steps: number;
  sampler: string;
  alpha: Float64Array; // [steps]
  beta: Float64Array; // [steps]
  isBeta: Float64Array; // [steps]
  refreshed: Uint8Array; // [steps]
  indices: Int32Array; // [steps * batchSize]
  reliability: Float32Array; // [steps * batchSize]
}

/** Re-run the sampling schedule on `buf` (which it advances: sample counters, refreshes). */
export function runSchedule(buf: ReplayBuffer, o: ScheduleOptions): ScheduleTrace {
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new RangeError(`schedule steps must be a positive integer, got ${o.steps}`);
  const st = buf.samplerState();
  const batchSize = o.batchSize ?? (st.lastBatchSize || 128);
  const startStep = o.startStep ?? st.lastStep + 1;
  const rng = new Rng(o.seed);
  const t: ScheduleTrace = {
    seed: o.seed,
    batchSize,
    startStep,
    steps: o.steps,
    sampler: buf.config.sampler,
    alpha: new Float64Array(o.steps),
    beta: new Float64Array(o.steps),
    isBeta: new Float64Array(o.steps),
    refreshed: new Uint8Array(o.steps),
    indices: new Int32Array(o.steps * batchSize),
    reliability: new Float32Array(o.steps * batchSize),
  };
  for (let k = 0; k < o.steps; k++) {
    const b = buf.sample(batchSize, rng, startStep + k);
    t.alpha[k] = b.info.alpha;
    t.beta[k] = b.info.beta;
    t.isBeta[k] = b.info.isBeta;
    t.refreshed[k] = b.info.refreshed ? 1 : 0;
    t.indices.set(b.indices, k * batchSize);
    t.reliability.set(b.info.reliability, k * batchSize);
  }
  return t;
}

/** JSON lines: a header line, then one line per step with its indices and sampled reliabilities. */
export function scheduleTraceLines(t: ScheduleTrace): string[] {
  const lines = [JSON.stringify({ kind: "replay-schedule", seed: t.seed, batchSize: t.batchSize, startStep: t.startStep, steps: t.steps, sampler: t.sampler })];
  const B = t.batchSize;
  for (let k = 0; k < t.steps; k++) {
    lines.push(
      JSON.stringify({
        step: t.startStep + k,
        alpha: t.alpha[k],
        beta: t.beta[k],
        isBeta: t.isBeta[k],
        refreshed: t.refreshed[k] === 1,
        indices: Array.from(t.indices.subarray(k * B, (k + 1) * B)),
        reliability: Array.from(t.reliability.subarray(k * B, (k + 1) * B)),
      }),
    );
  }
  return lines;
}

/** Write the trace as JSON lines atomically (temp file + rename). */
export async function writeScheduleTrace(path: string, t: ScheduleTrace): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, "w");
  try {
    for (const l of scheduleTraceLines(t)) await fh.write(l + "\n");
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** `qttdm replay schedule`: load `path`, re-run the schedule, write it to `out`. */
export async function replayScheduleFile(path: string, o: ScheduleOptions & { out: string }): Promise<ScheduleTrace> {
  const t = runSchedule(await ReplayBuffer.load(path), o);
  await writeScheduleTrace(o.out, t);
  return t;
}
