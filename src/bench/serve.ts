/**
 * `bench serve`: latency and throughput of `qttdm serve` on loopback under open-loop load.
 *
 * The server runs as a child process (`qttdm serve --port 0`, so the load generator does not share its event loop)
 * with a LunarLander DQN policy: a run under runs/libtorch-dqn-reaper/runs/ when there is one (or the checkpoint in
 * $QTTDM_BENCH_CHECKPOINT), else a short lunarlander/dqn-reaper run trained into a temporary folder (same network,
 * untrained weights: the same compute). Policies: the checkpoint in-process (`--checkpoint`, engine auto), and its
 * fp32 and int8 ONNX models (export/onnx.ts) through ONNX Runtime (`--model`).
 *
 * Load: for each request shape (1 observation, a batch of 16) and each rate (250, 500, 1000, 2000, 4000 requests/s),
 * requests are sent on a schedule (request i at t0 + i/rate) whatever the answers (open loop), over a keep-alive
 * agent, for a few seconds after a short warm-up; at most 512 in flight (beyond: counted as dropped). Latency is
 * from sending a request to the end of its answer. Figures per policy, shape and rate: p50/p90/p99 ms, achieved
 * requests/s, errors, requests per policy call (from the server's metrics); and per policy and shape the highest
 * rate with p99 ≤ 10 ms. Target on loopback: p50 ≤ 1 ms and p99 ≤ 5 ms at 1,000 requests/s.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "../core/rng.js";
import type { BenchFigures, Benchmark } from "./types.js";

const RATES = [250, 500, 1000, 2000, 4000];
const MAX_IN_FLIGHT = 512;

interface RateResult {
  rate: number;
  sent: number;
  ok: number;
  errors: number;
  dropped: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  reqPerS: number;
  /** Requests per policy call over the run (server metrics). */
  batchRequests: number;
  /** Server CPU time per answered request, µs. */
  cpuUs: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function post(agent: http.Agent, port: number, body: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      { host: "127.0.0.1", port, path: "/act", method: "POST", agent, headers: { "content-type": "application/json", "content-length": body.length } },
      (res) => {
        res.on("data", () => {});
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", () => resolve(0));
      },
    );
    req.on("error", () => resolve(0));
    req.end(body);
  });
}

function getText(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
        let t = "";
        res.on("data", (d) => (t += d));
        res.on("end", () => resolve(t));
      })
      .on("error", reject);
  });
}

/** The server's requests-per-batch histogram (sum, count) and its process CPU seconds, from /metrics. */
async function serverCounters(port: number): Promise<{ sum: number; count: number; cpu: number }> {
  const m = await getText(port, "/metrics");
  const v = (name: string) => {
    const line = m.split("\n").find((l) => l.startsWith(`${name} `));
    return line === undefined ? NaN : Number(line.slice(name.length + 1));
  };
  return { sum: v("qttdm_serve_batch_requests_sum"), count: v("qttdm_serve_batch_requests_count"), cpu: v("process_cpu_seconds_total") };
}

/**
 * The floor this machine allows: a bare node:http server that reads the body and answers a constant action, with
 * /metrics giving its CPU seconds. Run under the same load as the real ones.
 */
const BASELINE_SERVER = `
const http = require("node:http");
const s = http.createServer((req, res) => {
  if (req.url === "/metrics") { const c = process.cpuUsage(); res.end("process_cpu_seconds_total " + (c.user + c.system) / 1e6 + "\\n"); return; }
  let n = 0; req.on("data", (d) => (n += d.length));
  req.on("end", () => { res.setHeader("content-type", "application/json"); res.end('{"action":0}'); });
});
s.keepAliveTimeout = 72000;
s.listen(0, "127.0.0.1", () => console.log("qttdm serve: listening on http://127.0.0.1:" + s.address().port + " (baseline: node:http, constant answer)"));
process.on("SIGTERM", () => s.close(() => process.exit(0)));
`;

/** Open-loop load at `rate` requests/s for `seconds`; latencies of the answered requests. */
async function openLoop(port: number, agent: http.Agent, body: Buffer, rate: number, seconds: number): Promise<Omit<RateResult, "batchRequests" | "cpuUs">> {
  const total = Math.round(rate * seconds);
  const lat: number[] = [];
  let ok = 0;
  let errors = 0;
  let dropped = 0;
  let inFlight = 0;
  let sent = 0;
  let lastEnd = 0;
  const t0 = performance.now();
  await new Promise<void>((done) => {
    const finishIfDone = () => {
      if (sent + dropped === total && inFlight === 0) done();
    };
    const tick = () => {
      const now = performance.now();
      while (sent + dropped < total && t0 + ((sent + dropped) * 1000) / rate <= now) {
        if (inFlight >= MAX_IN_FLIGHT) {
          dropped++;
          continue;
        }
        sent++;
        inFlight++;
        const start = performance.now();
        void post(agent, port, body).then((status) => {
          const end = performance.now();
          inFlight--;
          lastEnd = end;
          if (status === 200) {
            ok++;
            lat.push(end - start);
          } else errors++;
          finishIfDone();
        });
      }
      if (sent + dropped < total) setTimeout(tick, Math.max(0, t0 + ((sent + dropped) * 1000) / rate - performance.now()));
      else finishIfDone();
    };
    tick();
  });
  lat.sort((a, b) => a - b);
  const elapsed = Math.max(seconds * 1000, lastEnd - t0) / 1000;
  return { rate, sent, ok, errors, dropped, p50: quantile(lat, 0.5), p90: quantile(lat, 0.9), p99: quantile(lat, 0.99), max: lat[lat.length - 1] ?? NaN, reqPerS: ok / elapsed };
}

/** `qttdm serve ARGS --port 0` from this build; resolves with its port once it printed it. */
async function startServer(args: string[], log: (l: string) => void): Promise<{ child: ChildProcess; port: number }> {
  const cli = fileURLToPath(new URL("../cli/main.js", import.meta.url));
  const argv = args[0] === "--baseline" ? ["-e", BASELINE_SERVER] : [cli, "serve", "--port", "0", ...args];
  const child = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const port = await new Promise<number>((resolve, reject) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+) /.exec(out);
      if (m) {
        clearInterval(poll);
        resolve(Number(m[1]));
      } else if (child.exitCode !== null || Date.now() - t0 > 120_000) {
        clearInterval(poll);
        reject(new Error(`qttdm serve did not start: ${out}`));
      }
    }, 20);
  });
  log(out.trim().split("\n")[0]!.replace(/^qttdm serve: /, "server: "));
  return { child, port };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/** A LunarLander DQN checkpoint: $QTTDM_BENCH_CHECKPOINT, a run of the libtorch comparison, or a short run trained now. */
async function findCheckpoint(log: (l: string) => void): Promise<{ dir: string; cleanup: string | null }> {
  const given = process.env.QTTDM_BENCH_CHECKPOINT;
  if (given) return { dir: given, cleanup: null };
  const root = "runs/libtorch-dqn-reaper/runs";
  if (existsSync(root)) {
    const run = readdirSync(root).filter((n) => n.startsWith("LunarLander-v3__dqn")).sort()[0];
    if (run && existsSync(join(root, run, "checkpoints", "latest"))) return { dir: join(root, run), cleanup: null };
  }
  log("no LunarLander DQN run found: training lunarlander/dqn-reaper for 1,000 steps into a temporary folder (same network, untrained)");
  const runs = mkdtempSync(join(tmpdir(), "qttdm-bench-serve-"));
  const { loadConfig } = await import("../config/load.js");
  const { train } = await import("../train/trainer.js");
  const set = ["experiment.totalSteps=1000", "train.learningStarts=500", "eval.every=0", "checkpoint.every=0", "eval.episodes=1", `experiment.runsDir=${runs}`];
  await train({ config: loadConfig({ config: "lunarlander/dqn-reaper", set }), progress: false, print: () => {} });
  return { dir: join(runs, readdirSync(runs)[0]!), cleanup: runs };
}

export const serveBenchmark: Benchmark = {
  name: "serve",
  description: "qttdm serve on loopback, open-loop 250-4000 requests/s: p50/p90/p99 latency and throughput, batch 1 and 16, checkpoint and ONNX fp32/int8 policies",
  async run(ctx) {
    const seconds = ctx.quick ? 1 : 3;
    const rates = ctx.quick ? [250, 1000] : RATES;
    const { dir, cleanup } = await findCheckpoint(ctx.log);
    const tmp = mkdtempSync(join(tmpdir(), "qttdm-bench-serve-models-"));
    const figures: BenchFigures = {};
    try {
      const { greedyPolicy } = await import("../export/policy.js");
      const p = await greedyPolicy(dir);
      ctx.log(`policy: ${p.checkpoint} (${p.source}, ${p.env}, ${p.obsDim} inputs, ${p.actions} actions, ${p.layers.length} layers)`);
      const policies: { name: string; args: string[]; shapes?: string[] }[] = [
        { name: "baseline", args: ["--baseline"], shapes: ["b1"] },
        { name: "checkpoint", args: ["--checkpoint", dir] },
      ];
      const { onnxModel } = await import("../export/onnx.js");
      writeFileSync(join(tmp, "fp32.onnx"), onnxModel(p));
      writeFileSync(join(tmp, "int8.onnx"), onnxModel(p, { int8: true }));
      policies.push({ name: "onnx_fp32", args: ["--model", join(tmp, "fp32.onnx")] }, { name: "onnx_int8", args: ["--model", join(tmp, "int8.onnx")] });
      const rng = new Rng(0);
      const row = () => Array.from({ length: p.obsDim }, () => Math.round(rng.normal() * 1e4) / 1e4);
      const shapes = [
        { name: "b1", body: Buffer.from(JSON.stringify({ observation: row() })) },
        { name: "b16", body: Buffer.from(JSON.stringify({ observations: Array.from({ length: 16 }, row) })) },
      ];
      ctx.log(`${rates.join(", ")} requests/s for ${seconds} s each (after a 0.5 s warm-up), open loop, keep-alive; latency from send to the end of the answer`);
      ctx.log("baseline: a bare node:http server answering a constant action (no Fastify, no policy): the floor of this machine under the same load");
      ctx.log(`${"policy".padEnd(11)} ${"shape".padEnd(5)} ${"rate/s".padStart(6)} ${"got/s".padStart(7)} ${"p50 ms".padStart(7)} ${"p90 ms".padStart(7)} ${"p99 ms".padStart(7)} ${"max ms".padStart(7)} ${"req/call".padStart(8)} ${"cpu us".padStart(6)} errors dropped`);
      for (const pol of policies) {
        const { child, port } = await startServer(pol.args, ctx.log);
        try {
          for (const shape of shapes.filter((sh) => !pol.shapes || pol.shapes.includes(sh.name))) {
            const agent = new http.Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
            let best = 0;
            for (const rate of rates) {
              await openLoop(port, agent, shape.body, rate, 0.5);
              const before = await serverCounters(port);
              const r = await openLoop(port, agent, shape.body, rate, seconds);
              const after = await serverCounters(port);
              const batchRequests = after.count > before.count ? (after.sum - before.sum) / (after.count - before.count) : NaN;
              // Less the two /metrics requests, whose cost is noise at these counts.
              const cpuUs = ((after.cpu - before.cpu) / Math.max(1, r.ok)) * 1e6;
              ctx.log(
                `${pol.name.padEnd(11)} ${shape.name.padEnd(5)} ${String(rate).padStart(6)} ${r.reqPerS.toFixed(0).padStart(7)} ${r.p50.toFixed(3).padStart(7)} ${r.p90.toFixed(3).padStart(7)} ${r.p99.toFixed(3).padStart(7)} ${r.max.toFixed(1).padStart(7)} ${batchRequests.toFixed(2).padStart(8)} ${cpuUs.toFixed(0).padStart(6)} ${String(r.errors).padStart(6)} ${String(r.dropped).padStart(7)}`,
              );
              const k = `${pol.name}.${shape.name}.r${rate}`;
              figures[`${k}.p50_ms`] = +r.p50.toFixed(4);
              figures[`${k}.p90_ms`] = +r.p90.toFixed(4);
              figures[`${k}.p99_ms`] = +r.p99.toFixed(4);
              figures[`${k}.req_per_s`] = +r.reqPerS.toFixed(1);
              figures[`${k}.errors`] = r.errors + r.dropped;
              if (Number.isFinite(batchRequests)) figures[`${k}.requests_per_call`] = +batchRequests.toFixed(3);
              figures[`${k}.server_cpu_us_per_req`] = +cpuUs.toFixed(1);
              if (r.p99 <= 10 && r.errors + r.dropped === 0) best = Math.max(best, rate);
            }
            agent.destroy();
            figures[`${pol.name}.${shape.name}.max_rate_p99_le_10ms_req_per_s`] = best;
            ctx.log(`${pol.name} ${shape.name}: highest rate with p99 <= 10 ms: ${best ? `${best} requests/s` : `none of ${rates.join(", ")}`}`);
          }
        } finally {
          await stopServer(child);
        }
      }
      for (const pol of policies.filter((q) => q.name !== "baseline")) {
        const p50 = figures[`${pol.name}.b1.r1000.p50_ms`];
        const p99 = figures[`${pol.name}.b1.r1000.p99_ms`];
        if (typeof p50 === "number" && typeof p99 === "number") {
          const met = p50 <= 1 && p99 <= 5;
          figures[`${pol.name}.b1.target_met`] = met;
          ctx.log(`${pol.name}: 1,000 requests/s of 1 observation: p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms (target p50 <= 1 ms, p99 <= 5 ms: ${met ? "met" : "missed"})`);
        }
      }
      return figures;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
      if (cleanup) rmSync(cleanup, { recursive: true, force: true });
    }
  },
};
