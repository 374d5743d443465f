/**
 * Distributed training against a real redis-server (started and stopped by PID here or by the trainer):
 * counts and integrity of what reaches the buffer, and the faults of issue 25 — a killed actor, a killed and
 * restarted server, SIGINT on the learner and resume, garbage on the stream, an unreachable URL.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { createClient, RESP_TYPES } from "redis";
import { describe, expect, it } from "vitest";
import { startRedisServer } from "../../src/distributed/redis.js";
import { ReplayBuffer } from "../../src/replay/buffer.js";
import { loadCheckpoint } from "../../src/train/checkpoint.js";
import { readHeldOut } from "../../src/train/run-dir.js";
import { CLI } from "../helpers/cli.js";

const hasRedis = spawnSync("redis-server", ["--version"]).status === 0;
if (!hasRedis) console.warn("test/distributed/faults.test.ts: skipped, redis-server is not installed (Debian: apt-get install redis-server)");

const tiny = [
  "experiment.backend=cpu", "agent.network.hidden=[16, 16]", "train.learningStarts=200", "train.batchSize=16", "eval.every=0", "eval.episodes=1",
  "env.numEnvs=1", "replay.transport=redis", "distributed.samplesPerInsert=2", "distributed.actorBatch=32", "logging.every=200", "logging.progress=false",
];

/** A `qttdm train` child process whose output is collected; `waitFor` resolves with the first match. */
function trainProcess(args: string[]) {
  const child: ChildProcess = spawn(process.execPath, [CLI, "train", ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: "0" } });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const waitFor = (re: RegExp, ms = 30_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        const m = out.match(re);
        if (m || Date.now() - started > ms) {
          clearInterval(poll);
          if (m) resolve(m);
          else reject(new Error(`no ${re} within ${ms} ms; output:\n${out}`));
        }
      }, 25);
    });
  return { child, exit, waitFor, output: () => out };
}

const sets = (keys: string[]) => keys.flatMap((k) => ["--set", k]);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function lastScalar(runDir: string, tag: string): number {
  const lines = readFileSync(join(runDir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { tag: string; value: number });
  const hits = lines.filter((l) => l.tag === tag);
  expect(hits.length, `${tag} logged`).toBeGreaterThan(0);
  return hits[hits.length - 1]!.value;
}

/**
 * The final checkpoint's buffer holds each (episode, step) once, every episode as one unbroken chain, and every
 * transition has a TD error: the learner's, or the actor's initial estimate for those never sampled (Ape-X).
 */
async function checkBuffer(runDir: string): Promise<{ size: number; envSteps: number; neverSampled: number }> {
  const ck = loadCheckpoint(join(runDir, "checkpoints"));
  const buffer = await ReplayBuffer.load(ck.replayPath!);
  const td = buffer.statistic("tdError");
  const sampled = buffer.statistic("timesSampled");
  let neverSampled = 0;
  for (let i = 0; i < buffer.size; i++) {
    if (sampled[i] === 0) neverSampled++;
    expect(Number.isFinite(td[i]!), `transition ${i} (sampled ${sampled[i]} times) has TD error ${td[i]}`).toBe(true);
  }
  const steps = new Map<number, number[]>();
  const batch = buffer.gather(Int32Array.from({ length: buffer.size }, (_, i) => i));
  for (let i = 0; i < buffer.size; i++) {
    const list = steps.get(batch.episodeId[i]!) ?? [];
    list.push(batch.stepInEpisode[i]!);
    steps.set(batch.episodeId[i]!, list);
  }
  for (const [id, list] of steps) {
    const sorted = [...list].sort((a, b) => a - b);
    for (let j = 1; j < sorted.length; j++) expect(sorted[j], `episode ${id}: steps ${sorted.join(",")}`).toBe(sorted[j - 1]! + 1);
  }
  return { size: buffer.size, envSteps: (ck.trainer as { envSteps: number }).envSteps, neverSampled };
}

describe.skipIf(!hasRedis)("distributed training with a real redis-server", () => {
  it("two actors and a private server: every delivered transition is in the buffer once, the server and actors are stopped", async () => {
    const runs = mkdtempSync(join(tmpdir(), "qttdm-dist-"));
    const run = trainProcess(sets([`experiment.runsDir=${runs}`, "experiment.totalSteps=1200", "distributed.actors=2", ...tiny, "eval.heldOut.episodes=1"]));
    const server = Number((await run.waitFor(/private redis-server \(pid (\d+)\)/))[1]);
    const actors = await Promise.all([0, 1].map(async (i) => Number((await run.waitFor(new RegExp(`actor ${i}: pid (\\d+)`)))[1])));
    expect(await run.exit, run.output()).toBe(0);
    const runDir = (await run.waitFor(/run directory: (\S+)/))[1]!;
    expect(run.output()).toMatch(/done: \d+ env steps/);
    for (const pid of [server, ...actors]) expect(alive(pid), `pid ${pid} still running`).toBe(false);
    expect(existsSync(join(runDir, "redis.sock"))).toBe(false);
    const { size, envSteps, neverSampled } = await checkBuffer(runDir);
    expect(size).toBe(envSteps);
    expect(envSteps).toBeGreaterThanOrEqual(1200);
    expect(neverSampled, "transitions whose only TD error is the actor's").toBeGreaterThan(0);
    expect(lastScalar(runDir, "distributed/rejected_messages")).toBe(0);
    expect(lastScalar(runDir, "distributed/lost_transitions")).toBe(0);
    expect(lastScalar(runDir, "distributed/inserts_per_s")).toBeGreaterThan(0);
    // The learner has no evaluation env of its own (its evaluator is a process); the held-out one makes one.
    expect(readHeldOut(runDir)).toMatchObject({ step: envSteps, episodes: 1, seed: 2_000_000 });
    expect(lastScalar(runDir, "eval/held_out_return")).toBe(readHeldOut(runDir)!.mean);
  });

  it("distributed.actors 0: the learner trains on `qttdm actor` processes started by hand; one restarted by hand draws a new incarnation", async () => {
    const runs = mkdtempSync(join(tmpdir(), "qttdm-dist-"));
    // Enough steps that the first actor, killed soon after it starts, cannot have sent them all (a fast backend
    // sends ~1,500 transitions/s here): the run needs the second one.
    const run = trainProcess(sets([`experiment.runsDir=${runs}`, "experiment.totalSteps=4000", "distributed.actors=0", ...tiny]));
    const [, runDir, url] = await run.waitFor(/waiting for actors: qttdm actor --run (\S+) --redis (\S+) --index I/);
    const startActor = () => {
      const actor = spawn(process.execPath, [CLI, "actor", "--run", runDir!, "--redis", url!, "--index", "3"], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      actor.stdout.on("data", (d) => (out += d));
      actor.stderr.on("data", (d) => (out += d));
      return { actor, output: () => out, exit: new Promise<number | null>((resolve) => actor.on("exit", (code) => resolve(code))) };
    };
    const first = startActor();
    while (!/actor 3: pid \d+, incarnation 0/.test(first.output())) await sleep(50);
    await sleep(100);
    first.actor.kill("SIGKILL");
    await first.exit;
    const second = startActor();
    expect(await run.exit, run.output()).toBe(0);
    expect(await second.exit, second.output()).toBe(0);
    expect(second.output()).toMatch(/actor 3: pid \d+, incarnation 1/);
    expect(second.output()).toMatch(/actor 3: stopped after sending \d+ transitions/);
    expect(lastScalar(runDir!, "distributed/rejected_messages")).toBe(0);
    const { size, envSteps } = await checkBuffer(runDir!);
    expect(size).toBe(envSteps);
  });

  it("an actor killed with SIGKILL is restarted and the run finishes; the log says what was lost", async () => {
    const runs = mkdtempSync(join(tmpdir(), "qttdm-dist-"));
    // As above: the killed actor cannot have sent all 4,000 steps, so the run needs its restart to finish.
    const run = trainProcess(sets([`experiment.runsDir=${runs}`, "experiment.totalSteps=4000", "distributed.actors=1", ...tiny]));
    const pid = Number((await run.waitFor(/actor 0: pid (\d+)/))[1]);
    await sleep(100);
    process.kill(pid, "SIGKILL");
    await run.waitFor(new RegExp(`actor 0 \\(pid ${pid}\\) exited with SIGKILL: it had sent \\d+ transitions; the transitions it had collected but not sent \\(its unsent batch, at most 32\\) are lost; restarting it \\(incarnation 1\\)`));
    await run.waitFor(/actor 0: pid \d+, incarnation 1/);
    expect(await run.exit, run.output()).toBe(0);
    const runDir = (await run.waitFor(/run directory: (\S+)/))[1]!;
    expect(lastScalar(runDir, "distributed/actor_restarts")).toBe(1);
    const { size, envSteps } = await checkBuffer(runDir);
    expect(size).toBe(envSteps);
  });

  it("redis-server killed and restarted mid-run: both sides reconnect with backoff and the run finishes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qttdm-redis-"));
    const socket = join(dir, "r.sock");
    let server = await startRedisServer({ dir, socket });
    try {
      const runs = mkdtempSync(join(tmpdir(), "qttdm-dist-"));
      const run = trainProcess(sets([`experiment.runsDir=${runs}`, "experiment.totalSteps=4000", "distributed.actors=1", `redis.url=${server.url}`, ...tiny]));
      const runDir = (await run.waitFor(/run directory: (\S+)/))[1]!;
      await run.waitFor(/actor 0: pid \d+/);
      await sleep(400);
      process.kill(server.pid, "SIGKILL");
      await sleep(500);
      server = await startRedisServer({ dir, socket });
      expect(await run.exit, run.output()).toBe(0);
      expect(run.output()).toMatch(/^redis unix:\/\/\S+: connection lost .*; reconnecting with backoff$/m);
      expect(run.output()).toMatch(/^redis unix:\/\/\S+: reconnected$/m);
      expect(run.output()).toMatch(/^actor 0: redis unix:\/\/\S+: reconnected$/m);
      const { size, envSteps } = await checkBuffer(runDir);
      expect(size).toBe(envSteps);
      expect(envSteps).toBeGreaterThanOrEqual(4000);
    } finally {
      await server.stop();
    }
  });

  it("SIGINT on the learner stops the actors and writes a checkpoint; train --resume restarts them (here one more) and continues; garbage on the stream is rejected and counted", async () => {
    const runs = mkdtempSync(join(tmpdir(), "qttdm-dist-"));
    const run = trainProcess(sets([`experiment.runsDir=${runs}`, "experiment.totalSteps=1000000", "distributed.actors=1", ...tiny]));
    const runDir = (await run.waitFor(/run directory: (\S+)/))[1]!;
    const socket = (await run.waitFor(/private redis-server \(pid \d+\) at unix:\/\/(\S+)/))[1]!;
    const pid = Number((await run.waitFor(/actor 0: pid (\d+)/))[1]);
    // Garbage on the run's stream: random bytes, a wrong field, a truncated header, a real actor message cut
    // short, and a second copy of a real message (a retried XADD): each is rejected, none is inserted.
    const client = createClient({ socket: { path: socket, tls: false } }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    await client.connect();
    const stream = `qttdm:${basename(runDir)}:transitions`;
    let real: Buffer | undefined;
    for (let t = 0; t < 400 && !real; t++, await sleep(50)) {
      const [first] = (await client.xRange(stream, "-", "+", { COUNT: 1 })) ?? [];
      real = first?.message?.m as Buffer | undefined;
    }
    expect(real, "an actor message on the stream").toBeDefined();
    for (const garbage of [Buffer.from("not a message at all"), Buffer.from([0x51, 0x54, 0x42, 0x31, 1, 0]), real!.subarray(0, real!.byteLength - 3), real!]) {
      await client.xAdd(stream, "*", { m: garbage });
    }
    await client.xAdd(stream, "*", { other: "x" });
    await client.close();
    await run.waitFor(/\(5 rejected so far\)/);
    expect(run.output()).toMatch(/arrived twice; the copy is dropped/);
    run.child.kill("SIGINT");
    expect(await run.exit, run.output()).toBe(130);
    expect(alive(pid)).toBe(false);
    const stopped = Number((await run.waitFor(/stopped at step (\d+)/))[1]);
    expect(existsSync(join(runDir, "checkpoints", "latest"))).toBe(true);
    const resumed = trainProcess(["--resume", runDir, ...sets([`experiment.totalSteps=${stopped + 500}`, "distributed.actors=2"])]);
    await resumed.waitFor(/actor 0: pid \d+, incarnation 1/);
    await resumed.waitFor(/actor 1: pid \d+, incarnation 1/);
    expect(await resumed.exit, resumed.output()).toBe(0);
    expect(resumed.output()).toMatch(new RegExp(`resuming .* at step ${stopped}`));
    // The count is part of the checkpoint: the resumed session goes on from it.
    expect(lastScalar(runDir, "distributed/rejected_messages")).toBe(5);
    const { size, envSteps } = await checkBuffer(runDir);
    expect(size).toBe(envSteps);
    expect(envSteps).toBeGreaterThanOrEqual(stopped + 500);
  });

  it("evaluation runs in its own process: a killed evaluator is restarted, evaluations pending at SIGINT are made on resume, each logged once", async () => {
    const runs = mkdtempSync(join(tmpdir(), "qttdm-dist-"));
    // Evaluations far slower than training, so that several are outstanding when the learner stops.
    const evals = ["eval.every=200", "eval.episodes=100"];
    const run = trainProcess(sets([`experiment.runsDir=${runs}`, "experiment.totalSteps=1000000", "distributed.actors=1", ...tiny, ...evals]));
    const runDir = (await run.waitFor(/run directory: (\S+)/))[1]!;
    const evaluator = Number((await run.waitFor(/evaluation process: pid (\d+)/))[1]);
    process.kill(evaluator, "SIGKILL");
    await run.waitFor(new RegExp(`evaluator \\(pid ${evaluator}\\) exited with SIGKILL; restarting it with [1-9]\\d* evaluation\\(s\\) outstanding`));
    await run.waitFor(/evaluation process: pid (?!${evaluator})\d+/);
    await sleep(300);
    run.child.kill("SIGINT");
    expect(await run.exit, run.output()).toBe(130);
    const stopped = Number((await run.waitFor(/stopped at step (\d+)/))[1]);
    const pendingDir = join(runDir, "eval", "pending");
    const pendingAtStop = readdirSync(pendingDir).filter((f) => f.endsWith(".agent"));
    expect(pendingAtStop.length, "evaluations outstanding at the stop").toBeGreaterThan(0);
    const resumed = trainProcess(["--resume", runDir, ...sets([`experiment.totalSteps=${stopped + 200}`])]);
    expect(await resumed.exit, resumed.output()).toBe(0);
    expect(readdirSync(pendingDir)).toEqual([]);
    const logged = readFileSync(join(runDir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { tag: string; step: number })
      .filter((r) => r.tag === "eval/episodic_return").map((r) => r.step);
    const saved = readdirSync(join(runDir, "eval")).flatMap((f) => (/^step-(\d+)\.json$/.exec(f) ? [Number(f.slice(5, 14))] : []));
    // Every evaluation made, up to the end, logged once and in order, each with its file.
    expect(logged).toEqual([...new Set(logged)].sort((a, b) => a - b));
    expect(logged).toEqual(saved.sort((a, b) => a - b));
    for (const f of pendingAtStop) expect(logged).toContain(Number(f.slice(5, 14)));
    expect(logged.at(-1)).toBeGreaterThanOrEqual(stopped + 200);
    const ck = loadCheckpoint(join(runDir, "checkpoints"));
    expect((ck.trainer as { evals: { step: number }[] }).evals.map((e) => e.step)).toEqual(logged);
  });

  it("a Redis URL that cannot be reached: one clear error within 5 s, exit 2", async () => {
    const runs = mkdtempSync(join(tmpdir(), "qttdm-dist-"));
    const run = trainProcess(sets([`experiment.runsDir=${runs}`, "distributed.actors=1", "redis.url=redis://127.0.0.1:9", ...tiny]));
    await run.waitFor(/run directory:/);
    const t0 = Date.now();
    expect(await run.exit).toBe(2);
    expect(Date.now() - t0).toBeLessThan(5_000);
    const errors = run.output().split("\n").filter((l) => l.startsWith("qttdm:"));
    expect(errors).toEqual([expect.stringMatching(/^qttdm: redis\.url: cannot reach the Redis server at redis:\/\/127\.0\.0\.1:9 \(.+\); expected a running redis-server there$/)]);
    expect(readdirSync(runs), "no empty run left behind").toEqual([]);
  });
});
