/**
 * Learner benchmark (`npm run bench -- learner [--backend libtorch] [--quick] [--profile]`): our tfjs backends
 * side by side with PyTorch, on the same machine in one invocation.
 *
 * W1: Double-DQN update, MLP 8-256-256-4, batch 128, Adam lr 6.3e-4, Huber, grad clip 10, target net,
 *     selection of the taken actions; updates/s.
 * W2: greedy action latency (forward + argmax + read back) for batch 1 and 16; p50/p90/p99 in µs.
 * W3: small causal transformer training step (seq 16, d 128, 4 heads, 2 layers, ReLU MLP ×4, batch 64,
 *     input 8 → output 4, MSE, Adam lr 3e-4, no clipping); steps/s.
 *
 * Each backend (wasm, and libtorch when its addon is built; `--backend X` names one) runs in its own child
 * process (`learner-child.ts`) with one thread. The workloads mirror `shared/bench/torch_reference.py`; when
 * `/usr/bin/python3` can import torch, that script runs too, with `--torch-threads` threads (default 1, with
 * the OpenBLAS/OpenMP pools limited to match), and the log names the BLAS it ran on (torch.ts). Figures are
 * named by backend (`wasm_w1_upd_per_s`, `libtorch_w3_steps_per_s`, `torch_w2_b1_p50_us`, …) with ratios
 * against torch: throughput ours/torch for W1 and W3 (above 1: we are faster), latency ours/torch for W2
 * (`*_w2_b1_p50_ratio_vs_torch`, above 1: we are slower). No ratio is given against torch on the reference
 * BLAS (`torch_blas: "reference"`): it is ~10x slower than OpenBLAS, so the ratio would mislead.
 *
 * Besides wall-clock rates, `*_cpu_*` figures divide by the child's CPU time: on a shared machine they show
 * what the code costs independent of other load. `--no-torch` skips PyTorch; `--profile` logs per-kernel times
 * (tf.profile) of one W1 update, one W3 step and one update of the `lunarlander/qttdm` agent, per backend.
 */
import { QttdmError } from "../core/errors.js";
import * as tf from "@tensorflow/tfjs";
import { formatBackend, numTensors, selectBackend, type BackendChoice } from "../backend/index.js";
import { loadConfig } from "../config/load.js";
import { Rng } from "../core/rng.js";
import { makeVectorEnv } from "../envs/index.js";
import { Dense, Mlp, PositionEmbedding, Transformer } from "../nets/layers.js";
import { huber, selectColumns } from "../nets/ops.js";
import { Adam } from "../nets/optim.js";
import { copyWeights } from "../nets/weights.js";
import { ReplayBuffer } from "../replay/buffer.js";
import { createAgent } from "../train/agents.js";
import { Collector } from "../train/collector.js";
import { benchBackends, distModule, runChild } from "./child.js";
import { probeTorch, runTorchReference, type TorchFigures } from "./torch.js";
import type { BenchContext, BenchFigures, Benchmark } from "./types.js";

const OBS = 8;
const ACTIONS = 4;
const BATCH = 128;
const GAMMA = 0.99;

/** A Double-DQN learner on synthetic data, as in W1. `update()` runs one full update. */
export function makeDqnWorkload(seed = 0) {
  const rng = new Rng(seed);
  const online = new Mlp("q", OBS, [256, 256], ACTIONS, rng);
  const target = new Mlp("q", OBS, [256, 256], ACTIONS, rng);
  copyWeights(online, target);
  const opt = new Adam(online.params(), { lr: 6.3e-4, clipNorm: 10, eps: 1e-8, beta1: 0.9, beta2: 0.999 });
  const n = 50_000;
  const obs = rng.fillUniform(new Float32Array(n * OBS), -1, 1) as Float32Array;
  const nobs = rng.fillUniform(new Float32Array(n * OBS), -1, 1) as Float32Array;
  const act = new Int32Array(n);
  const rew = new Float32Array(n);
  const disc = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    act[i] = rng.integers(0, ACTIONS);
    rew[i] = rng.uniform(-1, 1);
    disc[i] = rng.random() < 0.05 ? 0 : GAMMA;
  }
  const s = new Float32Array(BATCH * OBS);
  const s2 = new Float32Array(BATCH * OBS);
  const a = new Int32Array(BATCH);
  const r = new Float32Array(BATCH);
  const g = new Float32Array(BATCH);
  const update = () => {
    for (let i = 0; i < BATCH; i++) {
      const j = rng.integers(0, n);
      s.set(obs.subarray(j * OBS, (j + 1) * OBS), i * OBS);
      s2.set(nobs.subarray(j * OBS, (j + 1) * OBS), i * OBS);
      a[i] = act[j]!;
      r[i] = rew[j]!;
      g[i] = disc[j]!;
    }
    const y = tf.tidy(() => {
      const next = tf.tensor2d(s2, [BATCH, OBS]);
      const aStar = tf.argMax(online.apply(next), 1) as tf.Tensor1D;
      const qNext = selectColumns(target.apply(next) as tf.Tensor2D, aStar);
      return tf.add(tf.tensor1d(r), tf.mul(tf.tensor1d(g), qNext));
    });
    const out = opt.step(() => {
      const q = selectColumns(online.apply(tf.tensor2d(s, [BATCH, OBS]), false) as tf.Tensor2D, a);
      return tf.mean(huber(tf.sub(q, y))) as tf.Scalar;
    });
    y.dispose();
    return out.loss;
  };
  const dispose = () => {
    online.dispose();
    target.dispose();
    opt.dispose();
  };
  return { online, target, opt, update, dispose };
}

/** The W3 model and one training step on a fixed random batch. */
export function makeTransformerWorkload(seed = 0, batch = 64) {
  const T = 16;
  const D = 128;
  const rng = new Rng(seed);
  const inp = new Dense("inp", 8, D, rng);
  const pos = new PositionEmbedding("pos", T, D, rng);
  const body = new Transformer("tf", { layers: 2, dim: D, heads: 4, activation: "relu" }, rng);
  const out = new Dense("out", D, 4, rng);
  const params = new Map([...inp.params(), ...pos.params(), ...body.params(), ...out.params()]);
  const opt = new Adam(params, { lr: 3e-4, clipNorm: null, eps: 1e-8 });
  const x = tf.tensor3d(rng.fillNormal(new Float32Array(batch * T * 8)) as Float32Array, [batch, T, 8]);
  const y = tf.tensor3d(rng.fillNormal(new Float32Array(batch * T * 4)) as Float32Array, [batch, T, 4]);
  const step = () =>
    opt.step(() => {
      const h = body.apply(pos.apply(inp.apply(x) as tf.Tensor3D));
      return tf.mean(tf.squaredDifference(out.apply(h), y)) as tf.Scalar;
    }).loss;
  const dispose = () => {
    for (const m of [inp, pos, body, out]) m.dispose();
    opt.dispose();
    tf.dispose([x, y]);
  };
  return { params, step, dispose };
}

/** Run f n times; wall-clock and process CPU seconds. */
function timeLoop(n: number, f: () => unknown): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

/** Warm up, then time n calls of f; calls per wall and per CPU second, and the tensors the timed calls leaked. */
function timeRate(f: () => unknown, warmup: number, n: number): { wall: number; cpu: number; leaked: number } {
  timeLoop(warmup, f);
  const before = numTensors();
  const t = timeLoop(n, f);
  return { wall: n / t.wall, cpu: n / t.cpu, leaked: numTensors() - before };
}

/** Log kernel time by kernel name for one call of f (top 12). */
async function logProfile(log: (line: string) => void, label: string, f: () => unknown): Promise<void> {
  const info = await tf.profile(() => {
    f();
  });
  const by = new Map<string, { n: number; ms: number }>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = Number(k.kernelTimeMs) || 0;
    const e = by.get(k.name) ?? { n: 0, ms: 0 };
    e.n++;
    e.ms += ms;
    by.set(k.name, e);
    // customGrad scopes ("unnamed scope", "forward") nest other kernels; count leaves only.
    if (!/scope|forward|__op/.test(k.name)) total += ms;
  }
  const top = [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12);
  log(`${label} profile: ${info.kernels.length} kernels, ${round(total, 2)} ms in leaf kernels; ` + top.map(([k, e]) => `${k}×${e.n} ${round(e.ms, 2)}ms`).join(", "));
}

/** The preset whose agent update `--profile` breaks down: the heaviest update of the LunarLander presets. */
const PROFILED_PRESET = "lunarlander/qttdm";

/**
 * Profiles one update of the preset's agent as the trainer runs it after `train.learningStarts`: the buffer holds
 * that many transitions of ε = 1 exploration. The QT and the TDM train only every `updateEvery`-th update, so the
 * profiled update is one in which the critic, the QT and the TDM all train, after one such update that takes
 * the lazy set-up.
 */
async function profileAgentUpdate(log: (line: string) => void): Promise<void> {
  const config = loadConfig({ config: PROFILED_PRESET });
  if (config.agent.kind !== "qttdm") throw new QttdmError(`${PROFILED_PRESET} is expected to configure the qttdm agent`);
  const vec = await makeVectorEnv(config.env.id, config.env.numEnvs, config.env.options);
  const rng = new Rng(1);
  const agent = createAgent(config, vec, rng);
  try {
    const buffer = new ReplayBuffer(agent.replaySpec(), config.replay);
    const collector = new Collector(vec, config.experiment.seed);
    while (buffer.size < config.train.learningStarts) buffer.add(collector.step(agent.act(collector.obs, vec.num, "explore", 0, rng)).batch);
    const replay = {
      sample: (n: number) => buffer.sample(n, rng, 0, { recycle: true }),
      sampleSequences: (n: number, len: number) => buffer.sampleSequences(n, len, rng, 0, { recycle: true }),
      sampleObservations: (n: number) => buffer.sampleObservations(n, rng),
    };
    const update = () => agent.update(replay);
    const full = config.agent.qt.updateEvery * config.agent.tdmTrain.updateEvery;
    for (let i = 1; i < 2 * full; i++) update();
    await logProfile(log, `${PROFILED_PRESET} update ${2 * full} (critic, QT and TDM)`, update);
  } finally {
    agent.dispose();
    vec.close();
  }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** Timed repetitions of W1 and W3, shared with the torch reference so that both time the same work. */
function timedCounts(quick: boolean): { w1: number; w3: number } {
  return quick ? { w1: 200, w3: 30 } : { w1: 2000, w3: 300 };
}

/**
 * Measures W1–W3 in this process on `backend` (libtorch with one thread); run by learner-child.ts.
 * @returns unprefixed figures (`w1_upd_per_s`, …) and `backend`, the name of the backend that ran
 */
export async function measureLearner(backend: BackendChoice, opts: { quick: boolean; profile: boolean; log: (line: string) => void }): Promise<BenchFigures> {
  const { quick, profile, log } = opts;
  const info = await selectBackend(backend, { threads: 1 });
  log(`backend: ${formatBackend(info)}`);
  const { w1: w1n, w3: w3n } = timedCounts(quick);
  const lat = quick ? 1000 : 5000;
  const figs: BenchFigures = { backend: info.name, threads: info.threads, ...(info.simd === null ? {} : { simd: info.simd }) };
  let leaked = 0;

  /** Time a workload and record its wall and CPU rates as `<key>_<unit>_per_s` and `<key>_cpu_<unit>_per_s`. */
  const measure = (label: string, key: string, unit: string, f: () => unknown, warmup: number, n: number) => {
    const r = timeRate(f, warmup, n);
    leaked += r.leaked;
    figs[`${key}_${unit}_per_s`] = round(r.wall);
    figs[`${key}_cpu_${unit}_per_s`] = round(r.cpu);
    log(`${label}: ${round(r.wall)} ${unit}/s (${round(1000 / r.wall, 3)} ms wall, ${round(1000 / r.cpu, 3)} ms CPU)`);
  };

  const dqn = makeDqnWorkload(0);
  measure("W1 DQN update", "w1", "upd", dqn.update, quick ? 20 : 200, w1n);
  if (profile) await logProfile(log, "W1", dqn.update);

  for (const bs of [1, 16]) {
    const rng = new Rng(1);
    const x = rng.fillUniform(new Float32Array(bs * OBS)) as Float32Array;
    const sel = () => {
      const t = tf.tidy(() => tf.argMax(dqn.online.apply(tf.tensor2d(x, [bs, OBS]), false), 1));
      const v = t.dataSync();
      t.dispose();
      return v;
    };
    for (let i = 0; i < 500; i++) sel();
    const before = numTensors();
    const times = new Float64Array(lat);
    for (let i = 0; i < lat; i++) {
      const t0 = performance.now();
      sel();
      times[i] = (performance.now() - t0) * 1000;
    }
    leaked += numTensors() - before;
    times.sort();
    figs[`w2_b${bs}_p50_us`] = round(percentile(times, 0.5), 1);
    figs[`w2_b${bs}_p90_us`] = round(percentile(times, 0.9), 1);
    figs[`w2_b${bs}_p99_us`] = round(percentile(times, 0.99), 1);
    log(`W2 greedy action batch ${bs}: p50 ${figs[`w2_b${bs}_p50_us`]} µs, p90 ${figs[`w2_b${bs}_p90_us`]} µs`);
  }
  dqn.dispose();

  const tr = makeTransformerWorkload(0);
  measure("W3 transformer step", "w3", "steps", tr.step, quick ? 5 : 30, w3n);
  if (profile) await logProfile(log, "W3", tr.step);
  tr.dispose();
  figs.leaked_tensors = leaked;
  if (profile) await profileAgentUpdate(log);
  return figs;
}

/**
 * The benchmark's figures: each backend's under its name, torch's under `torch_`, and ratios against torch
 * unless torch ran on the reference BLAS.
 * @param ours figures of measureLearner by backend name (their `backend` key is dropped)
 */
export function learnerFigures(ours: Record<string, BenchFigures>, torch: TorchFigures | null): BenchFigures {
  const figs: BenchFigures = {};
  for (const [b, f] of Object.entries(ours)) {
    for (const [k, v] of Object.entries(f)) if (k !== "backend") figs[`${b}_${k}`] = v;
  }
  if (!torch) return figs;
  Object.assign(figs, { torch_version: torch.version, torch_threads: torch.threads, torch_blas: torch.blas });
  if (torch.w1) figs.torch_w1_upd_per_s = torch.w1;
  for (const [bs, t] of Object.entries(torch.w2)) {
    figs[`torch_w2_b${bs}_p50_us`] = t.p50;
    figs[`torch_w2_b${bs}_p99_us`] = t.p99;
  }
  if (torch.w3) figs.torch_w3_steps_per_s = torch.w3;
  if (torch.w3sdpa) figs.torch_w3_sdpa_steps_per_s = torch.w3sdpa;
  if (torch.blas === "reference") return figs;
  const put = (key: string, mine: unknown, theirs: number | undefined) => {
    if (typeof mine === "number" && theirs) figs[key] = round(mine / theirs, 3);
  };
  for (const [b, f] of Object.entries(ours)) {
    put(`${b}_w1_ratio_vs_torch`, f.w1_upd_per_s, torch.w1);
    for (const [bs, t] of Object.entries(torch.w2)) put(`${b}_w2_b${bs}_p50_ratio_vs_torch`, f[`w2_b${bs}_p50_us`], t.p50);
    put(`${b}_w3_ratio_vs_torch`, f.w3_steps_per_s, torch.w3);
  }
  return figs;
}

export const learnerBenchmark: Benchmark = {
  name: "learner",
  description: "DQN update (W1), greedy-action latency (W2) and transformer step (W3) per tfjs backend, one thread each, vs PyTorch CPU when available",
  async run(ctx: BenchContext): Promise<BenchFigures> {
    const backends = benchBackends(ctx);
    const torchThreads = Number(ctx.options.torchThreads ?? 1);
    const probe = ctx.options.torch === false ? null : probeTorch(torchThreads);
    if (probe && "reason" in probe) ctx.log(`${probe.reason}: reporting ours only`);
    else if (probe) {
      ctx.log(`torch ${probe.version}: BLAS ${probe.blas} (BLAS_INFO=${probe.blasInfo}; mapped ${probe.mapped.join(", ") || "no libblas/libopenblas"})`);
      if (probe.blas === "reference") {
        ctx.log("torch runs on the reference BLAS, ~10x slower than OpenBLAS: its figures are reported but no ratio against it " +
          "(install libopenblas0-pthread, or pick it with update-alternatives --config libblas.so.3-x86_64-linux-gnu)");
      }
    }

    const ours: Record<string, BenchFigures> = {};
    for (const b of backends) {
      ctx.log(`${b}: measuring in a child process, one thread`);
      const args = [b, ...(ctx.quick ? ["--quick"] : []), ...(ctx.options.profile ? ["--profile"] : [])];
      const f = (await runChild(distModule("bench/learner-child.js"), args, (line) => ctx.log(`${b}: ${line}`))) as BenchFigures;
      ours[String(f.backend)] = f;
    }

    const { w1, w3 } = timedCounts(ctx.quick);
    const torch = probe && !("reason" in probe) ? runTorchReference(ctx.log, probe, torchThreads, w1, w3) : null;
    return learnerFigures(ours, torch);
  },
};
