/**
 * `bench distributed`: transport throughput of replay.transport: redis, with no learning. Four producer
 * processes (distributed-producer.ts: real LunarLander transitions, the actors' stream code) send packed
 * 64-transition messages to a private redis-server on a unix socket; the learner side is the trainer's own
 * DistributedLearner, which drains, decodes, checks and inserts them (with their priorities) into a
 * ReplayBuffer of 2^17 (ReaPER+ sampler). The rate limiter is opened wide (samplesPerInsert 1e-6), so
 * nothing waits for updates. Figures: transitions inserted per second, and per producer.
 *
 * Then the projection of distributed-projection.ts for `--config` (default lunarlander/dqn-reaper) on `--backend`
 * (default: auto): measured actor and learner rates of that preset, with the insert cost measured here, give the
 * transitions/s and the learner's utilisation for 1, 2, 8, 32 and 128 actors.
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../config/load.js";
import { QttdmError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { selectBackend } from "../backend/index.js";
import { makeEnv } from "../envs/index.js";
import { DistributedLearner } from "../distributed/learner.js";
import { startRedisServer } from "../distributed/redis.js";
import { ReplayBuffer } from "../replay/buffer.js";
import { createAgent } from "../train/agents.js";
import { distModule } from "./child.js";
import { projectPreset } from "./distributed-projection.js";
import type { BenchContext, BenchFigures, Benchmark } from "./types.js";

async function run(ctx: BenchContext): Promise<BenchFigures> {
  const actors = 4;
  const batch = 64;
  const seconds = ctx.quick ? 2 : 10;
  const dir = mkdtempSync(join(tmpdir(), "qttdm-bench-dist-"));
  const server = await startRedisServer({ dir });
  const producers: ChildProcess[] = [];
  try {
    const config = loadConfig({
      config: "lunarlander/dqn-reaper",
      set: ["experiment.backend=cpu", "agent.network.hidden=[16, 16]", "replay.transport=redis", `redis.url=${server.url}`, "replay.capacity=131072", "distributed.samplesPerInsert=0.000001", `distributed.actorBatch=${batch}`],
    });
    await selectBackend("cpu");
    const env = await makeEnv("LunarLander-v3");
    const agent = createAgent(config, env, new Rng(1));
    env.close();
    const buffer = new ReplayBuffer(agent.replaySpec(), config.replay);
    const learner = await DistributedLearner.open({ config, runDir: dir, buffer, agent, say: ctx.log, resumed: null });
    const sentBy: number[] = [];
    const started: Promise<void>[] = [];
    const finished: Promise<void>[] = [];
    for (let i = 0; i < actors; i++) {
      const child = fork(distModule("bench/distributed-producer.js"), [server.url, dir, String(i), String(batch)], { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"] });
      producers.push(child);
      started.push(
        new Promise((resolve, reject) => {
          child.on("message", (m: { ready?: boolean }) => m.ready && resolve());
          child.once("exit", (code, signal) => reject(new QttdmError(`bench distributed: producer ${i} exited with ${signal ?? `code ${code}`} before it was ready (its output is above)`)));
        }),
      );
      finished.push(new Promise((resolve) => child.on("message", (m: { sent?: number }) => m.sent !== undefined && (sentBy[i] = m.sent, resolve()))));
    }
    await Promise.all(started);
    ctx.log(`${actors} producers ready (batches of ${batch} LunarLander transitions); measuring ${seconds} s`);
    const progress = { envSteps: 0, updates: 0 };
    const drain = async (until: number) => {
      while (performance.now() < until) progress.envSteps += (await learner.collect(progress)).steps;
    };
    await drain(performance.now() + 1_000);
    const [s0, t0] = [progress.envSteps, performance.now()];
    await drain(t0 + seconds * 1_000);
    const perS = ((progress.envSteps - s0) * 1_000) / (performance.now() - t0);
    const scalars = learner.scalars();
    await learner.close();
    await Promise.all(finished);
    agent.dispose();
    ctx.log(`${perS.toFixed(0)} transitions/s inserted (decoded, checked, priorities applied); buffer ${buffer.size}; rejected ${scalars["distributed/rejected_messages"]}, lost ${scalars["distributed/lost_transitions"]}`);
    const projection = await projectPreset(ctx, String(ctx.options.config ?? "lunarlander/dqn-reaper"), String(ctx.options.backend ?? "auto"), perS);
    return {
      actors,
      batch_transitions: batch,
      transitions_per_s: Math.round(perS),
      transitions_per_s_per_actor: Math.round(perS / actors),
      sent_transitions: sentBy.reduce((a, b) => a + b, 0),
      inserted_transitions: progress.envSteps,
      rejected_messages: scalars["distributed/rejected_messages"]!,
      ...projection,
    };
  } finally {
    for (const p of producers) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const distributedBenchmark: Benchmark = {
  name: "distributed",
  description: "replay.transport: redis with no learning: transitions/s from 4 producer processes through a private redis-server into the learner's buffer; then a projection for 8/32/128 actors of --config (measured actor and learner rates)",
  run,
};
