/** The benchmark registry and runner: figures go out as one JSON object on the last line. */
import { QttdmError } from "../core/errors.js";
import type { BenchContext, BenchFigures, Benchmark } from "./types.js";

/** Loaded lazily so that `qttdm bench env` does not pay for tfjs start-up. */
const BENCHMARKS: Record<string, { description: string; load: () => Promise<Benchmark> }> = {
  env: { description: "environment steps/s and reset memory (LunarLander, Humanoid)", load: async () => (await import("./env.js")).envBenchmark },
  replay: { description: "replay add / sample+update rounds/s, tree refresh cost, RSS at 1M", load: async () => (await import("./replay.js")).replayBenchmark },
  dqn: { description: "DQN presets on LunarLander over seeds: solve rate, steps to 200, stability", load: async () => (await import("./dqn.js")).dqnBenchmark },
  learner: { description: "DQN update, action latency and transformer step per backend (wasm, libtorch) vs PyTorch, one thread each", load: async () => (await import("./learner.js")).learnerBenchmark },
  report: { description: "qttdm report over 10 configs × 10 seeds × 200k steps of metrics: seconds to build", load: async () => (await import("./report.js")).reportBenchmark },
  train: { description: "end-to-end env steps/s of a preset's trainer per backend (wasm, libtorch), one thread each", load: async () => (await import("./train.js")).trainBenchmark },
  distributed: { description: "replay.transport: redis, no learning: transitions/s from 4 producer processes through redis-server into the learner's buffer", load: async () => (await import("./distributed.js")).distributedBenchmark },
  serve: { description: "qttdm serve on loopback, open-loop 250-4000 req/s: latency p50/p90/p99 and throughput, batch 1 and 16", load: async () => (await import("./serve.js")).serveBenchmark },
};

export function benchmarkNames(): string[] {
  return Object.keys(BENCHMARKS);
}

export function describeBenchmarks(): string {
  return Object.entries(BENCHMARKS)
    .map(([name, b]) => `  ${name.padEnd(10)} ${b.description}`)
    .join("\n");
}

/** Runs the named benchmarks in order; prints progress, then all figures as the last line. */
export async function runBenchmarks(names: string[], ctx: Omit<BenchContext, "log">): Promise<BenchFigures> {
  const unknown = names.filter((n) => !(n in BENCHMARKS));
  if (unknown.length > 0) {
    throw new QttdmError(`unknown benchmark ${unknown.map((n) => JSON.stringify(n)).join(", ")}; expected one of: ${benchmarkNames().join(", ")}`);
  }
  const all: BenchFigures = {};
  for (const name of names) {
    const bench = await BENCHMARKS[name]!.load();
    const log = (line: string) => process.stdout.write(`[${name}] ${line}\n`);
    log(bench.description);
    const figures = await bench.run({ ...ctx, log });
    for (const [k, v] of Object.entries(figures)) all[names.length > 1 ? `${name}.${k}` : k] = v;
  }
  process.stdout.write(JSON.stringify(all) + "\n");
  return all;
}
