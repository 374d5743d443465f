/**
 * Environment benchmark: single-threaded steps/s with random actions, resets/s, and whether many
 * resets grow the wasm heap. One entry per environment in `ENV_CASES`; figures are prefixed with
 * the case's key (e.g. `lunarlander_steps_per_s`).
 */
import { Rng } from "../core/rng.js";
import { loadBox2D, makeEnv, sampleSpace, wasmHeapProbe, type Env } from "../envs/index.js";
import { loadMujoco, mujocoHeapProbe } from "../envs/mujoco/index.js";
import type { BenchContext, BenchFigures, Benchmark } from "./types.js";

export interface EnvBenchCase {
  /** Prefix of the figure names. */
  key: string;
  id: string;
  options?: Record<string, unknown>;
  /** Reads the heap of the env's wasm module, for the reset-leak check; omit to skip it. */
  heapProbe?: () => Promise<{ memoryBytes: number; topAddress: number }>;
}

export const ENV_CASES: EnvBenchCase[] = [
  { key: "lunarlander", id: "LunarLander-v3", heapProbe: async () => wasmHeapProbe(await loadBox2D()) },
  { key: "humanoid", id: "Humanoid-v5", heapProbe: async () => mujocoHeapProbe(await loadMujoco()) },
];

/** Steps with uniformly random actions for about `seconds`, resetting finished episodes. */
function measureSteps(env: Env, seconds: number, rng: Rng): { stepsPerS: number; episodes: number } {
  env.reset({ seed: 0 });
  let steps = 0;
  let episodes = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    for (let i = 0; i < 500; i++) {
      const r = env.step(sampleSpace(env.actionSpace, rng));
      steps++;
      if (r.terminated || r.truncated) {
        env.reset();
        episodes++;
      }
    }
    elapsed = performance.now() - t0;
  }
  return { stepsPerS: (steps / elapsed) * 1000, episodes };
}

function measureResets(env: Env, count: number): number {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) env.reset({ seed: i });
  return (count / (performance.now() - t0)) * 1000;
}

async function runCase(c: EnvBenchCase, ctx: BenchContext, figures: BenchFigures): Promise<void> {
  const env = await makeEnv(c.id, c.options ?? {});
  try {
    const seconds = ctx.quick ? 1 : 5;
    measureSteps(env, 0.3, new Rng(1)); // warm-up (JIT)
    const { stepsPerS, episodes } = measureSteps(env, seconds, new Rng(2));
    ctx.log(`${c.id}: ${stepsPerS.toFixed(0)} steps/s over ${seconds} s (${episodes} episodes), random actions`);
    figures[`${c.key}_steps_per_s`] = Math.round(stepsPerS);

    const resetsPerS = measureResets(env, ctx.quick ? 500 : 3000);
    ctx.log(`${c.id}: ${resetsPerS.toFixed(0)} resets/s`);
    figures[`${c.key}_resets_per_s`] = Math.round(resetsPerS);

    if (c.heapProbe) {
      const n = ctx.quick ? 1000 : 10_000;
      measureResets(env, 200);
      const before = await c.heapProbe();
      measureResets(env, n);
      const after = await c.heapProbe();
      const growth = after.memoryBytes - before.memoryBytes;
      const topDrift = after.topAddress - before.topAddress;
      ctx.log(`${c.id}: ${n} resets: wasm memory ${before.memoryBytes} -> ${after.memoryBytes} bytes, allocation top drift ${topDrift} bytes`);
      figures[`${c.key}_reset_heap_growth_bytes`] = growth;
      figures[`${c.key}_reset_alloc_top_drift_bytes`] = topDrift;
      figures[`${c.key}_resets_checked`] = n;
    }
  } finally {
    env.close();
  }
}

export const envBenchmark: Benchmark = {
  name: "env",
  description: "environment steps/s (random actions, one thread), resets/s, wasm heap growth over many resets",
  async run(ctx) {
    const figures: BenchFigures = {};
    for (const c of ENV_CASES) await runCase(c, ctx, figures);
    return figures;
  },
};
