/**
 * Learner benchmark (`npm run bench -- learner [--backend wasm] [--quick]`).
 *
 * W1: Double-DQN update, MLP 8-256-256-4, batch 128, Adam lr 6.3e-4, Huber, grad clip 10, target net,
 *     selection of the taken actions; updates/s.
 * W2: greedy action latency (forward + argmax + read back) for batch 1 and 16; p50/p90/p99 in µs.
 * W3: small causal transformer training step (seq 16, d 128, 4 heads, 2 layers, ReLU MLP ×4, batch 64,
 *     input 8 → output 4, MSE, Adam lr 3e-4, no clipping); steps/s.
 * The workloads mirror `shared/bench/torch_reference.py`; when `/usr/bin/python3` can import torch, that
 * script runs in the same invocation and each figure gets a ratio against PyTorch.
 *
 * Options: `--backend auto|tensorflow|wasm|cpu` (default auto), `--torch-threads N` (default 2, as the
 * reference), `--no-torch` to skip PyTorch, `--profile` to log per-kernel times (tf.profile) of one W1
 * update and one W3 step. Besides wall-clock rates, `*_cpu_*` figures divide by this process's CPU time:
 * on a shared machine they show what the code costs independent of other load (our backends are single-threaded).
 */
import * as tf from "@tensorflow/tfjs";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { formatBackend, numTensors, selectBackend, type BackendChoice } from "../backend/index.js";
import { Rng } from "../core/rng.js";
import { Dense, Mlp, PositionEmbedding, Transformer } from "../nets/layers.js";
import { huber, selectColumns } from "../nets/ops.js";
import { Adam } from "../nets/optim.js";
import { copyWeights } from "../nets/weights.js";
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

/** Log kernel time by kernel name for one call of f (top 12). */
async function logProfile(ctx: BenchContext, label: string, f: () => unknown): Promise<void> {
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
  ctx.log(`${label} profile: ${info.kernels.length} kernels, ${round(total, 2)} ms in leaf kernels; ` + top.map(([k, e]) => `${k}×${e.n} ${round(e.ms, 2)}ms`).join(", "));
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

interface TorchFigures {
  w1?: number;
  w2?: Record<number, { p50: number; p99: number }>;
  w3?: number;
  w3sdpa?: number;
  version?: string;
}

function torchReferencePath(): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // src/bench or dist/bench → repo root is two levels up; the shared folder sits next to the repo.
  for (const p of [path.resolve(here, "../../../shared/bench/torch_reference.py"), path.resolve(process.cwd(), "../shared/bench/torch_reference.py")]) {
    if (existsSync(p)) return p;
  }
  return null;
}

function runTorch(ctx: BenchContext, threads: number, w1n: number, w3n: number): TorchFigures | null {
  const py = "/usr/bin/python3";
  const script = torchReferencePath();
  if (!existsSync(py) || !script) return null;
  if (spawnSync(py, ["-c", "import torch"], { stdio: "ignore" }).status !== 0) {
    ctx.log("torch not importable by /usr/bin/python3: reporting ours only (apt-get install -y python3-torch to compare)");
    return null;
  }
  ctx.log(`running PyTorch reference ${script}`);
  const r = spawnSync(py, [script, String(threads), String(w1n), String(w3n)], { encoding: "utf8", timeout: 600_000 });
  if (r.status !== 0) {
    ctx.log(`torch reference failed: ${r.stderr.slice(-500)}`);
    return null;
  }
  const f: TorchFigures = { w2: {} };
  for (const line of r.stdout.split("\n")) {
    if (!line.trim()) continue;
    const j = JSON.parse(line) as Record<string, unknown>;
    if (j.torch) f.version = String(j.torch);
    if (j.w === "W1") f.w1 = j.upd_per_s as number;
    if (j.w === "W2") f.w2![j.batch as number] = { p50: j.p50_us as number, p99: j.p99_us as number };
    if (j.w === "W3") f.w3 = j.steps_per_s as number;
    if (j.w === "W3-sdpa") f.w3sdpa = j.steps_per_s as number;
    ctx.log(`torch: ${line}`);
  }
  return f;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

export const learnerBenchmark: Benchmark = {
  name: "learner",
  description: "DQN update (W1), greedy-action latency (W2) and transformer step (W3) on the selected tfjs backend, vs PyTorch CPU when available",
  async run(ctx: BenchContext): Promise<BenchFigures> {
    const info = await selectBackend((ctx.options.backend as BackendChoice | undefined) ?? "auto");
    ctx.log(`backend: ${formatBackend(info)}`);
    const w1n = ctx.quick ? 200 : 2000;
    const w3n = ctx.quick ? 30 : 300;
    const lat = ctx.quick ? 1000 : 5000;
    const figs: BenchFigures = { backend: info.name, simd: info.simd, threads: info.threads };
    let leaked = 0;

    const dqn = makeDqnWorkload(0);
    timeLoop(ctx.quick ? 20 : 200, dqn.update);
    let before = numTensors();
    const w1t = timeLoop(w1n, dqn.update);
    leaked += numTensors() - before;
    const w1 = w1n / w1t.wall;
    figs.w1_upd_per_s = round(w1);
    figs.w1_cpu_upd_per_s = round(w1n / w1t.cpu);
    ctx.log(`W1 DQN update: ${round(w1)} upd/s (${round(1000 / w1, 3)} ms wall, ${round((1000 * w1t.cpu) / w1n, 3)} ms CPU)`);
    if (ctx.options.profile) await logProfile(ctx, "W1", dqn.update);

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
      before = numTensors();
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
      ctx.log(`W2 greedy action batch ${bs}: p50 ${figs[`w2_b${bs}_p50_us`]} µs, p90 ${figs[`w2_b${bs}_p90_us`]} µs`);
    }
    dqn.dispose();

    const tr = makeTransformerWorkload(0);
    timeLoop(ctx.quick ? 5 : 30, tr.step);
    before = numTensors();
    const w3t = timeLoop(w3n, tr.step);
    leaked += numTensors() - before;
    const w3 = w3n / w3t.wall;
    figs.w3_steps_per_s = round(w3);
    figs.w3_cpu_steps_per_s = round(w3n / w3t.cpu);
    ctx.log(`W3 transformer step: ${round(w3)} steps/s (${round(1000 / w3, 2)} ms wall, ${round((1000 * w3t.cpu) / w3n, 2)} ms CPU)`);
    if (ctx.options.profile) await logProfile(ctx, "W3", tr.step);
    tr.dispose();
    figs.leaked_tensors = leaked;

    const torchThreads = Number(ctx.options.torchThreads ?? 2);
    const torch = ctx.options.torch === false ? null : runTorch(ctx, torchThreads, w1n, w3n);
    if (torch) {
      figs.torch_version = torch.version ?? null;
      figs.torch_threads = torchThreads;
      if (torch.w1) {
        figs.torch_w1_upd_per_s = torch.w1;
        figs.w1_ratio_vs_torch = round(w1 / torch.w1, 3);
      }
      for (const bs of [1, 16]) {
        const t = torch.w2?.[bs];
        if (t) {
          figs[`torch_w2_b${bs}_p50_us`] = t.p50;
          // Latency ratio as a speed ratio (torch latency / ours): above 1 means we are faster.
          figs[`w2_b${bs}_speed_ratio_vs_torch`] = round(t.p50 / (figs[`w2_b${bs}_p50_us`] as number), 3);
        }
      }
      if (torch.w3) {
        figs.torch_w3_steps_per_s = torch.w3;
        figs.w3_ratio_vs_torch = round(w3 / torch.w3, 3);
      }
      if (torch.w3sdpa) figs.torch_w3_sdpa_steps_per_s = torch.w3sdpa;
    }
    return figs;
  },
};

/** Alias under the benchmark's name. */
export const learner = learnerBenchmark;
