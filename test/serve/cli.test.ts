// `qttdm serve` as a child process: its start line, batching of concurrent requests, a seeded fuzz of malformed
// requests after which it still answers, SIGTERM with a request in flight, and its argument errors.
import { spawnSync, type ChildProcess } from "node:child_process";
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import { greedyPolicy, int8OnnxModel, onnxRunner } from "../../src/export/index.js";
import { CLI, qttdm } from "../helpers/cli.js";
import { act, sample, send, startServe, stopChild, tinyRun, type Answer } from "./helpers.js";

let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await tinyRun();
});

afterAll(() => {
  for (const c of children) stopChild(c);
});

/** Bytes written on a raw connection; resolves with what came back before it closed (or 3 s passed). */
function raw(url: string, bytes: Buffer | string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve) => {
    let got = "";
    const s = net.connect(Number(u.port), u.hostname, () => s.end(bytes));
    const timer = setTimeout(() => s.destroy(), 3000);
    s.on("data", (d) => (got += d.toString("latin1")));
    s.on("error", () => {});
    s.on("close", () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}

/** A random JSON value of bounded depth. */
function randomJson(rng: Rng, depth: number): unknown {
  const k = rng.integers(0, depth > 0 ? 7 : 5);
  if (k === 0) return null;
  if (k === 1) return rng.random() < 0.5;
  if (k === 2) return (rng.random() - 0.5) * 10 ** rng.integers(0, 40);
  if (k === 3) return rng.choice(["NaN", "Infinity", "-Infinity", "1e999", "", "0x1F", "∞", "\u0000", "a".repeat(rng.integers(0, 3000))]);
  if (k === 4) return rng.integers(-5, 5);
  if (k === 5) return Array.from({ length: rng.integers(0, 12) }, () => randomJson(rng, depth - 1));
  return Object.fromEntries(Array.from({ length: rng.integers(0, 4) }, () => [rng.choice(["observation", "observations", "q_values", "x", "__proto__", "constructor"]), randomJson(rng, depth - 1)]));
}

/** One malformed request of a random kind. */
async function malformed(rng: Rng, url: string): Promise<{ kind: string; answer: Answer | string }> {
  const good = () => Array.from({ length: 8 }, () => rng.normal());
  const kind = rng.integers(0, 12);
  switch (kind) {
    case 0: {
      const bytes = Buffer.from(Array.from({ length: rng.integers(1, 2000) }, () => rng.integers(0, 256)));
      return { kind: "random bytes", answer: await send(url, { body: bytes }) };
    }
    case 1: {
      const body = JSON.stringify({ observations: [good(), good()] });
      return { kind: "truncated JSON", answer: await send(url, { body: body.slice(0, rng.integers(0, body.length - 1)) }) };
    }
    case 2:
      return { kind: "random JSON", answer: await send(url, { body: JSON.stringify(randomJson(rng, 4)) ?? "null" }) };
    case 3: {
      const o: unknown[] = good();
      o[rng.integers(0, 8)] = randomJson(rng, 1);
      if (o.every((x) => typeof x === "number" && Math.abs(x) <= 3.4e38)) o[0] = "NaN";
      return { kind: "a bad entry", answer: await act(url, rng.random() < 0.5 ? { observation: o } : { observations: [good(), o] }) };
    }
    case 4: {
      const lit = rng.choice(["1e999", "-1e999", "1e39", "-3.5e38", "NaN", "Infinity", "0x10", "01", ".5", "+1", "1e", "--1"]);
      return { kind: "a bad number literal", answer: await send(url, { body: `{"observation": [${lit}, 0, 0, 0, 0, 0, 0, 0]}` }) };
    }
    case 5: {
      const n = rng.choice([0, 1, 7, 9, 100]);
      return { kind: "a wrong length", answer: await act(url, { observation: Array.from({ length: n }, () => 0.5) }) };
    }
    case 6: {
      const ct = rng.choice(["text/plain", "application/xml", "multipart/form-data; boundary=x", "application/json-patch+json", "application/x-www-form-urlencoded", "json", "*/*"]);
      return { kind: "a wrong content type", answer: await send(url, { body: JSON.stringify({ observation: good() }), headers: { "content-type": ct } }) };
    }
    case 7: {
      const method = rng.choice(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "POST"]);
      const path = rng.choice(["/act/", "/ACT", "/act%00", "/%ff", "/../", "/metrics/x", "/healthz%", `/${"a".repeat(5000)}`, "/act?observation=1"]);
      return { kind: "a wrong method or path", answer: await send(url, { method, path, body: method === "GET" ? undefined : "{}" }) };
    }
    case 8:
      return { kind: "deep nesting", answer: await send(url, { body: "[".repeat(200_000) + "]".repeat(200_000) }) };
    case 9:
      return { kind: "too many rows", answer: await act(url, { observations: Array.from({ length: 1100 }, () => [0, 0, 0, 0, 0, 0, 0, 0]) }) };
    case 10: {
      const body = `{"observation": [0, 0, 0, 0, 0, 0, 0, 0], "q_values": "\xff\xfe"}`;
      return { kind: "invalid UTF-8", answer: await send(url, { body: Buffer.from(body, "latin1") }) };
    }
    default: {
      const garbage = rng.choice([
        "GARBAGE\r\n\r\n",
        "POST /act HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
        "POST /act HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nContent-Length: 2\r\n\r\n{}}}}}}}",
        "POST /act HTTP/9.9\r\n\r\n",
        "\x00\x01\x02\x03",
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: ${"b".repeat(20_000)}\r\n\r\n`,
      ]);
      return { kind: "malformed HTTP", answer: await raw(url, Buffer.from(garbage, "latin1")) };
    }
  }
}

describe("qttdm serve (child process)", () => {
  let child: ChildProcess;
  let url: string;
  let out: { text: string };
  let exited: Promise<number>;
  beforeAll(async () => {
    ({ child, url, out, exited } = await startServe(["--checkpoint", dir, "--batch-window-ms", "20"]));
    children.push(child);
  });

  it("prints one line naming the address and the policy", () => {
    const lines = out.text.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^qttdm serve: listening on http:\/\/127\.0\.0\.1:\d+ \(POST \/act, GET \/healthz, GET \/metrics\); policy: checkpoint .*LunarLander-v3.*; batch window 20 ms, max batch 64 rows$/);
  });

  it("batches concurrent requests (metrics show batches of more than one request)", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const obs = [0, 0.5, 0, 0, 0, 0, 0, 0];
    // Open the connections first, so that the burst below is requests only.
    await Promise.all(Array.from({ length: 64 }, () => send(url, { method: "GET", path: "/healthz", agent })));
    const answers = await Promise.all(Array.from({ length: 64 }, () => act(url, { observation: obs }, { agent })));
    agent.destroy();
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200]));
    expect(new Set(answers.map((a) => (a.json as { action: number }).action)).size).toBe(1);
    const m = (await send(url, { method: "GET", path: "/metrics" })).text;
    const batches = sample(m, "qttdm_serve_batch_requests_count")!;
    expect(sample(m, "qttdm_serve_batch_requests_sum")).toBe(64);
    expect(batches).toBeLessThan(64);
    expect(sample(m, "qttdm_serve_batch_requests_bucket", 'le="1"')).toBeLessThan(batches);
  });

  it("answers a seeded fuzz of malformed requests with 4xx JSON errors, then still serves", async () => {
    const rng = new Rng(2028);
    const kinds = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const { kind, answer } = await malformed(rng, url);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      if (typeof answer === "string") {
        // Raw garbage: a 400 when anything came back (a connection may also just be closed).
        if (answer) expect(answer, kind).toMatch(/^HTTP\/1\.1 4\d\d /);
        continue;
      }
      expect(answer.status, `${kind}: ${answer.text}`).toBeGreaterThanOrEqual(400);
      expect(answer.status, `${kind}: ${answer.text}`).toBeLessThan(500);
      expect(typeof (answer.json as { error?: unknown })?.error, `${kind}: ${answer.text}`).toBe("string");
    }
    expect(kinds.size).toBe(12);
    const ok = await act(url, { observation: [0, 0, 0, 0, 0, 0, 0, 0] });
    expect(ok.status).toBe(200);
    expect(typeof (ok.json as { action: number }).action).toBe("number");
    expect(child.exitCode).toBeNull();
    const m = (await send(url, { method: "GET", path: "/metrics" })).text;
    expect(m).not.toMatch(/status="5\d\d"/);
  });

  it("SIGTERM: refuses new connections, finishes the request in flight, exits 0", async () => {
    const body = JSON.stringify({ observation: [0, 0, 0, 0, 0, 0, 0, 0] });
    const u = new URL("/act", url);
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(u, { method: "POST", agent: false, headers: { "content-type": "application/json", "content-length": String(body.length) } }, (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode!, text }));
      });
      req.on("error", reject);
      req.write(body.slice(0, 10));
      (globalThis as { inflightReq?: http.ClientRequest }).inflightReq = req;
    });
    // Wait until the server counts it (and the metrics request itself) in flight.
    for (let i = 0; ; i++) {
      const m = (await send(url, { method: "GET", path: "/metrics" })).text;
      if (sample(m, "qttdm_serve_in_flight_requests")! >= 2) break;
      if (i > 200) throw new Error("the request never arrived");
      await new Promise((r) => setTimeout(r, 20));
    }
    process.kill(child.pid!, "SIGTERM");
    for (let i = 0; !out.text.includes("SIGTERM: no new connections"); i++) {
      if (i > 500) throw new Error(`no shutdown message: ${out.text}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(out.text).toContain("finishing 1 request(s) in flight");
    await expect(send(url, { method: "GET", path: "/healthz" })).rejects.toThrow(/ECONNREFUSED|ECONNRESET|socket hang up/);
    expect(child.exitCode).toBeNull();
    const req = (globalThis as { inflightReq?: http.ClientRequest }).inflightReq!;
    req.end(body.slice(10));
    const r = await answer;
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toHaveProperty("action");
    expect(await exited).toBe(0);
    expect(out.text).toMatch(/qttdm serve: stopped\n$/);
  });
});

describe("qttdm serve --checkpoint RUN --int8", () => {
  it("serves the int8 model qttdm export --int8 writes: same actions and Q-values as that model in ONNX Runtime", async () => {
    const { child, url, out } = await startServe(["--checkpoint", dir, "--int8"]);
    children.push(child);
    expect(out.text).toMatch(/policy: int8 ONNX model of .* \(8 inputs, 4 actions\), ONNX Runtime/);
    const greedy = await greedyPolicy(dir);
    const runner = await onnxRunner(await int8OnnxModel(dir, greedy), greedy.obsDim);
    const observations = Array.from({ length: 16 }, (_, i) => Array.from({ length: 8 }, (_, j) => Math.sin(i * 8 + j)));
    const r = await act(url, { observations, q_values: true });
    expect(r.status, r.text).toBe(200);
    const body = JSON.parse(r.text) as { actions: number[]; q_values: number[][] };
    const want = await runner.run(Float32Array.from(observations.flat()), 16);
    await runner.release();
    expect(body.actions).toEqual(Array.from(want.actions));
    expect(body.q_values.flat().map((v) => Math.fround(v))).toEqual(Array.from(want.q));
    stopChild(child);
  });
});

describe("qttdm serve: argument errors (one line, exit 2)", () => {
  it.each([
    ["neither policy", [] as string[], /^qttdm: serve: give exactly one of --checkpoint RUN .* or --model FILE\.onnx/],
    ["both policies", ["--checkpoint", "x", "--model", "y.onnx"], /^qttdm: serve: give exactly one of/],
    ["a non-loopback host without a token", ["--checkpoint", "x", "--host", "0.0.0.0"], /^qttdm: --host "0.0.0.0": binding beyond loopback needs a bearer token/],
    ["a short token", ["--checkpoint", "x", "--token", "abc"], /^qttdm: --token: got a token of 3 characters, expected 16 to 512/],
    ["a negative window", ["--checkpoint", "x", "--batch-window-ms", "-1"], /^qttdm: --batch-window-ms -1: expected a number of milliseconds from 0 to 1000/],
    ["a bad port", ["--checkpoint", "x", "--port", "70000"], /^qttdm: --port 70000: expected an integer from 0 to 65535/],
    ["--int8 with --model", ["--model", "y.onnx", "--int8"], /^qttdm: serve: --int8 applies to --checkpoint RUN; an exported --model keeps the precision/],
    ["a missing model file", ["--model", "/nonexistent/p.onnx"], /^qttdm: --model "\/nonexistent\/p\.onnx": no such file/],
  ])("%s", (_, args, message) => {
    const r = qttdm(["serve", ...args]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("QTTDM_TOKEN is read and checked like --token", () => {
    const r = spawnSync(process.execPath, [CLI, "serve", "--checkpoint", "x", "--host", "0.0.0.0"], { encoding: "utf8", env: { ...process.env, QTTDM_TOKEN: "short" } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^qttdm: QTTDM_TOKEN: got a token of 5 characters, expected 16 to 512/);
  });
});
