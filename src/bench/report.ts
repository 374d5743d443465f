/**
 * `bench report`: how long `qttdm report` takes over a large comparison. Synthetic runs (real configs, metrics.jsonl
 * in the trainer's format and cadence: scalars every logging step, an episode every ~250 steps, an evaluation every
 * 10k) of 10 configs × 10 seeds × 200k steps by default are written to a temporary folder; the timed part is
 * reading, the statistics (2000 bootstrap resamples) and writing the page.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configToYaml, loadConfig } from "../config/load.js";
import { Rng } from "../core/rng.js";
import { writeReport } from "../report/index.js";
import type { Benchmark } from "./types.js";

const SCALAR_TAGS = ["losses/td_loss", "losses/q_values", "losses/grad_norm", "replay/alpha", "replay/beta", "replay/reliability_mean", "replay/is_weight_mean", "charts/epsilon", "charts/SPS", "charts/updates", "charts/learning_rate"];

/** One run's metrics.jsonl: a learning curve rising with the config's speed, noise per seed. */
function syntheticMetrics(steps: number, config: number, seed: number): string {
  const rng = new Rng(1000 * config + seed);
  const lines: string[] = [];
  const rec = (step: number, tag: string, value: number) => lines.push(JSON.stringify({ step, tag, value, wall_time: 1.7e9 + step / 300 }));
  const curve = (step: number) => -200 + 450 * (1 - Math.exp(-step / (40_000 + 6000 * config)));
  for (let step = 1000; step <= steps; step += 1000) {
    for (let e = 0; e < 4; e++) {
      rec(step, "charts/episodic_return", curve(step) + 60 * rng.normal());
      rec(step, "charts/episodic_length", 200 + 100 * rng.random());
    }
    for (const tag of SCALAR_TAGS) rec(step, tag, rng.random());
    rec(step, "charts/train_seconds", step / 300);
    if (step % 10_000 === 0) rec(step, "eval/episodic_return", curve(step) + 30 * rng.normal());
  }
  return lines.join("\n") + "\n";
}

export const reportBenchmark: Benchmark = {
  name: "report",
  description: "qttdm report over 10 configs × 10 seeds × 200k steps of metrics (synthetic runs): seconds to build",
  async run(ctx) {
    const configs = ctx.quick ? 3 : 10;
    const seeds = ctx.quick ? 3 : 10;
    const steps = Number(ctx.options.steps ?? (ctx.quick ? 50_000 : 200_000));
    const root = mkdtempSync(join(tmpdir(), "qttdm-bench-report-"));
    try {
      let lines = 0;
      for (let c = 0; c < configs; c++) {
        for (let s = 1; s <= seeds; s++) {
          const config = loadConfig({ set: [`experiment.name=c${c}`, `experiment.seed=${s}`, `experiment.totalSteps=${steps}`, `agent.lr=${(c + 1) * 1e-4}`, `experiment.runsDir=${root}`] });
          const dir = join(root, `c${c}__${s}`);
          mkdirSync(dir);
          writeFileSync(join(dir, "config.yaml"), configToYaml(config));
          const metrics = syntheticMetrics(steps, c, s);
          lines += metrics.split("\n").length - 1;
          writeFileSync(join(dir, "metrics.jsonl"), metrics);
        }
      }
      ctx.log(`${configs} configs × ${seeds} seeds × ${steps} steps: ${lines} metrics records`);
      const t0 = performance.now();
      const { report } = writeReport([root], { out: join(root, "report.html") });
      const seconds = (performance.now() - t0) / 1000;
      ctx.log(`report: ${report.figures.length} figures, ${report.tables.length} tables in ${seconds.toFixed(2)} s (target ≤ 5 s for 10 × 10 × 200k)`);
      return { configs, seeds, steps, metrics_records: lines, build_s: Number(seconds.toFixed(3)) };
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
};
