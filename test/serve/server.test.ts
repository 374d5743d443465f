// qttdm serve's HTTP server in-process on port 0: endpoints, the policy's actions, micro-batching, every refusal, the token.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import { policyQValues } from "../../src/export/forward.js";
import { greedyPolicy, type GreedyPolicy } from "../../src/export/policy.js";
import { ArraysPolicy, checkpointPolicy, TfjsPolicy, type PolicyOutput, type ServePolicy } from "../../src/serve/policy.js";
import { startServer, type RunningServer } from "../../src/serve/server.js";
import { act, sample, send, tinyRun } from "./helpers.js";

let dir: string;
let p: GreedyPolicy;
const servers: RunningServer[] = [];
const policies: ServePolicy[] = [];

async function serve(policy: ServePolicy, opts: Omit<Parameters<typeof startServer>[0], "policy"> = {}): Promise<RunningServer> {
  const s = await startServer({ policy, port: 0, ...opts });
  servers.push(s);
  return s;
}

/** Greedy actions of the float64 reference, and whether each row's best action leads the next by a clear margin. */
function reference(obs: Float32Array, n: number) {
  const q = policyQValues(p, obs, n);
  const k = p.actions;
  const actions: number[] = [];
  const clear: boolean[] = [];
  for (let r = 0; r < n; r++) {
    const row = Array.from(q.subarray(r * k, (r + 1) * k));
    const best = row.indexOf(Math.max(...row));
    const second = Math.max(...row.filter((_, j) => j !== best));
    actions.push(best);
    clear.push(row[best]! - second > 1e-4 * Math.max(1, Math.abs(row[best]!)));
  }
  return { q, actions, clear };
}

function randomObs(seed: number, n: number): Float32Array {
  return new Rng(seed).fillNormal(new Float32Array(n * p.obsDim), 0, 1);
}
const rows = (obs: Float32Array, n: number) => Array.from({ length: n }, (_, r) => Array.from(obs.subarray(r * p.obsDim, (r + 1) * p.obsDim)));

beforeAll(async () => {
  dir = await tinyRun(["agent.network.layerNorm=true", "agent.network.dueling=true"]);
  p = await greedyPolicy(dir);
});

afterAll(async () => {
  for (const s of servers) await s.close();
  for (const q of policies) await q.close();
});

describe("qttdm serve: endpoints and actions", () => {
  let url: string;
  beforeAll(async () => {
    const policy = await checkpointPolicy(dir);
    policies.push(policy);
    url = (await serve(policy)).url;
  });

  it("GET /healthz names the policy", async () => {
    const r = await send(url, { method: "GET", path: "/healthz" });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: "ok", obs_dim: 8, actions: 4 });
    expect((r.json as { policy: string }).policy).toContain("LunarLander-v3");
  });

  it("POST /act with one observation gives the policy's action and, when asked, its Q-values", async () => {
    const obs = randomObs(1, 1);
    const want = reference(obs, 1);
    const r = await act(url, { observation: rows(obs, 1)[0], q_values: true });
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^application\/json/);
    const body = r.json as { action: number; q_values: number[] };
    body.q_values.forEach((v, j) => expect(v).toBeCloseTo(want.q[j]!, 4));
    expect(body.action).toBe(body.q_values.indexOf(Math.max(...body.q_values)));
    if (want.clear[0]) expect(body.action).toBe(want.actions[0]);
    expect(Object.keys((await act(url, { observation: rows(obs, 1)[0] })).json as object)).toEqual(["action"]);
  });

  it("POST /act with a batch gives each row's action and Q-values", async () => {
    const n = 37;
    const obs = randomObs(2, n);
    const want = reference(obs, n);
    const r = await act(url, { observations: rows(obs, n), q_values: true });
    expect(r.status).toBe(200);
    const body = r.json as { actions: number[]; q_values: number[][] };
    expect(body.actions).toHaveLength(n);
    body.q_values.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(want.q[i * p.actions + j]!, 4)));
    body.actions.forEach((a, i) => (want.clear[i] ? expect(a).toBe(want.actions[i]) : expect(a).toBe(body.q_values[i]!.indexOf(Math.max(...body.q_values[i]!)))));
    expect(Object.keys((await act(url, { observations: rows(obs, 2) })).json as object)).toEqual(["actions"]);
  });

  it("GET /metrics is Prometheus text with requests by route and status, latency, errors and batch sizes", async () => {
    await act(url, { observation: [1] });
    const r = await send(url, { method: "GET", path: "/metrics" });
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = r.text;
    expect(sample(m, "qttdm_serve_requests_total", 'route="/act",method="POST",status="200"')).toBeGreaterThanOrEqual(4);
    expect(sample(m, "qttdm_serve_requests_total", 'route="/act",method="POST",status="400"')).toBe(1);
    expect(sample(m, "qttdm_serve_errors_total", 'route="/act",status="400"')).toBe(1);
    expect(sample(m, "qttdm_serve_request_duration_seconds_count", 'route="/act"')).toBeGreaterThanOrEqual(5);
    expect(sample(m, "qttdm_serve_request_duration_seconds_bucket", 'route="/act",le="+Inf"')).toBe(sample(m, "qttdm_serve_request_duration_seconds_count", 'route="/act"'));
    expect(sample(m, "qttdm_serve_batch_rows_count")).toBeGreaterThanOrEqual(4);
    expect(sample(m, "qttdm_serve_batch_rows_bucket", 'le="64"')).toBeGreaterThanOrEqual(1); // the 37-row batch
    for (const line of m.trim().split("\n")) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? [-+\d.e]+|\w+(\{[^}]*\})? \+?Inf)$/);
  });

  it("both engines compute the reference Q-values", async () => {
    const n = 9;
    const obs = randomObs(3, n);
    const want = reference(obs, n);
    const tfjs = await TfjsPolicy.create(p, "tfjs");
    for (const engine of [new ArraysPolicy(p), tfjs]) {
      const out = (await engine.run(obs, n)) as PolicyOutput;
      Array.from(out.q).forEach((v, i) => expect(v).toBeCloseTo(want.q[i]!, 4));
      want.actions.forEach((a, i) => want.clear[i] && expect(out.actions[i]).toBe(a));
    }
    await tfjs.close();
  });
});

/** An asynchronous policy that takes `ms` per call (as an ONNX Runtime call does, off the event loop). */
class SlowPolicy implements ServePolicy {
  readonly obsDim: number;
  readonly numActions: number;
  readonly description = "slow arrays";
  calls: number[] = [];
  constructor(
    private readonly inner: ServePolicy,
    private readonly ms: number,
  ) {
    this.obsDim = inner.obsDim;
    this.numActions = inner.numActions;
  }
  async run(obs: Float32Array, n: number): Promise<PolicyOutput> {
    this.calls.push(n);
    await new Promise((r) => setTimeout(r, this.ms));
    return this.inner.run(obs, n);
  }
  async close(): Promise<void> {}
}

describe("qttdm serve: micro-batching", () => {
  it("concurrent requests run as batches and each gets its own rows' actions", async () => {
    const slow = new SlowPolicy(new ArraysPolicy(p), 40);
    const s = await serve(slow, { batchWindowMs: 5, maxBatch: 16 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 40 });
    const n = 40;
    const obs = randomObs(4, n);
    const want = reference(obs, n);
    const q = policyQValues(p, obs, n);
    const answers = await Promise.all(rows(obs, n).map((o) => act(s.url, { observation: o, q_values: true }, { agent })));
    agent.destroy();
    answers.forEach((r, i) => {
      expect(r.status).toBe(200);
      const body = r.json as { action: number; q_values: number[] };
      body.q_values.forEach((v, j) => expect(v).toBeCloseTo(q[i * p.actions + j]!, 4));
      if (want.clear[i]) expect(body.action).toBe(want.actions[i]);
    });
    expect(slow.calls.reduce((a, b) => a + b, 0)).toBe(n);
    expect(Math.max(...slow.calls)).toBeGreaterThan(1);
    expect(Math.max(...slow.calls)).toBeLessThanOrEqual(16);
    const m = (await send(s.url, { method: "GET", path: "/metrics" })).text;
    expect(sample(m, "qttdm_serve_batch_requests_count")).toBe(slow.calls.length);
    expect(sample(m, "qttdm_serve_batch_requests_bucket", 'le="1"')).toBeLessThan(slow.calls.length); // some batch held > 1 request
    expect(s.metrics.maxBatchRequests()).toBeGreaterThan(1);
  });

  it("a lone request does not wait out the window; window 0 runs each request by itself", async () => {
    const s = await serve(new ArraysPolicy(p), { batchWindowMs: 1000 });
    const t0 = performance.now();
    expect((await act(s.url, { observation: rows(randomObs(5, 1), 1)[0] })).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(900);

    const slow = new SlowPolicy(new ArraysPolicy(p), 20);
    const s0 = await serve(slow, { batchWindowMs: 0 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const answers = await Promise.all(rows(randomObs(6, 8), 8).map((o) => act(s0.url, { observation: o }, { agent })));
    agent.destroy();
    expect(answers.map((r) => r.status)).toEqual(new Array(8).fill(200));
    expect(slow.calls).toEqual(new Array(8).fill(1));
  });
});

describe("qttdm serve: refusals", () => {
  let url: string;
  beforeAll(async () => {
    url = (await serve(new ArraysPolicy(p), { maxRows: 50, bodyLimit: 64 * 1024 })).url;
  });

  const obs8 = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
  const cases: [string, () => Promise<{ status: number; json: unknown; headers: http.IncomingHttpHeaders }>, number, RegExp][] = [
    ["a wrong observation length", () => act(url, { observation: [1, 2, 3] }), 400, /^observation: got 3 values \[1,2,3\], expected 8 numbers/],
    ["a wrong row length in a batch", () => act(url, { observations: [obs8, [1, 2]] }), 400, /^observations\[1\]: got 2 values \[1,2\], expected 8 numbers/],
    ['"NaN" as a string', () => act(url, { observation: [...obs8.slice(0, 7), "NaN"] }), 400, /^observation\[7\]: got "NaN" \(a string\), expected a finite number/],
    ["a number beyond float32 (1e39)", () => send(url, { body: `{"observation": [1e39, 0, 0, 0, 0, 0, 0, 0]}` }), 400, /^observation\[0\]: got 1e\+39, expected a finite number within float32 range/],
    ["a number beyond float64 (1e999, parsed as Infinity)", () => send(url, { body: `{"observation": [0, -1e999, 0, 0, 0, 0, 0, 0]}` }), 400, /^observation\[1\]: got -Infinity, expected a finite number/],
    ["null in a row", () => act(url, { observations: [[...obs8.slice(0, 3), null, ...obs8.slice(4)]] }), 400, /^observations\[0\]\[3\]: got null \(null\), expected a finite number/],
    ["a nested array", () => act(url, { observation: [[1], ...obs8.slice(1)] }), 400, /^observation\[0\]: got \[1\] \(an array of 1\), expected a finite number/],
    ["an observation that is not an array", () => act(url, { observation: "1,2,3" }), 400, /^observation: got "1,2,3" \(a string\), expected an array of 8 numbers/],
    ["observations that are not rows", () => act(url, { observations: obs8 }), 400, /^observations\[0\]: got 0.1 \(a number\), expected an array of 8 numbers/],
    ["an empty batch", () => act(url, { observations: [] }), 400, /^observations: got an empty array, expected 1 to 50 rows/],
    ["both fields", () => act(url, { observation: obs8, observations: [obs8] }), 400, /^body: both "observation" and "observations" given, expected exactly one/],
    ["neither field", () => act(url, { q_values: true }), 400, /^body: neither "observation" and "observations" given/],
    ["an unknown field", () => act(url, { observaton: obs8 }), 400, /^body: unknown field "observaton", expected only observation, observations, q_values/],
    ["q_values not a boolean", () => act(url, { observation: obs8, q_values: "yes" }), 400, /^q_values: got "yes" \(a string\), expected true or false/],
    ["a JSON array body", () => act(url, [obs8]), 400, /^body: got \[\[0.1,.*\(an array of 1\), expected a JSON object \{"observation"/],
    ["a JSON number body", () => send(url, { body: "42" }), 400, /^body: got 42 \(a number\), expected a JSON object/],
    ["non-JSON", () => send(url, { body: "{observation: [1,2]" }), 400, /^body: not valid JSON \(.*\): "\{observation: \[1,2\]"/],
    ["an empty JSON body", () => send(url, { body: "" }), 400, /^body: (not valid JSON|got undefined)/],
    ["__proto__ as a field", () => send(url, { body: `{"__proto__": {"x": 1}, "observation": [0,0,0,0,0,0,0,0]}` }), 400, /^body: unknown field "__proto__"/],
    ["too many rows", () => act(url, { observations: new Array(51).fill(obs8) }), 413, /^observations: got 51 rows, expected at most 50 \(--max-rows\)/],
    ["a body over the size limit", () => send(url, { body: JSON.stringify({ observations: new Array(5000).fill(obs8) }) }), 413, /^body: \d+ bytes is over the limit of 65536 bytes/],
    ["a streamed (chunked) body over the size limit", () => send(url, { body: JSON.stringify({ observations: new Array(5000).fill(obs8) }), chunked: true }), 413, /^body: a streamed body is over the limit of 65536 bytes/],
    ["a wrong content type", () => send(url, { body: JSON.stringify({ observation: obs8 }), headers: { "content-type": "text/plain" } }), 415, /^content-type: got "text\/plain", expected application\/json/],
    ["no content type", () => send(url, { method: "POST" }), 415, /^content-type: got none, expected application\/json/],
    ["an unknown route", () => send(url, { method: "GET", path: "/act/../../etc/passwd" }), 404, /^route: got GET "\/etc\/passwd", expected POST \/act, GET \/healthz or GET \/metrics/],
    ["an unknown route with a body", () => send(url, { path: "/predict", body: "{}" }), 404, /^route: got POST "\/predict"/],
    ["GET /act", () => send(url, { method: "GET" }), 405, /^method: got "GET" for \/act, expected POST/],
    ["DELETE /healthz", () => send(url, { method: "DELETE", path: "/healthz" }), 405, /^method: got "DELETE" for \/healthz, expected GET or HEAD/],
  ];

  it.each(cases)("%s", async (_, call, status, message) => {
    const r = await call();
    expect(r.status).toBe(status);
    expect(r.headers["content-type"]).toMatch(/^application\/json/);
    expect(Object.keys(r.json as object)).toEqual(["error"]);
    expect((r.json as { error: string }).error).toMatch(message);
    if (status === 405) expect(r.headers.allow).toBeDefined();
  });

  it("long values are shortened in the message", async () => {
    const r = await act(url, { observation: new Array(2000).fill(123456.789) });
    expect(r.status).toBe(400);
    expect((r.json as { error: string }).error.length).toBeLessThan(300);
  });

  it("still answers after all of them", async () => {
    expect((await act(url, { observation: obs8 })).status).toBe(200);
  });
});

describe("qttdm serve: bearer token", () => {
  const token = "test-token-0123456789abcdef";
  let url: string;
  beforeAll(async () => {
    url = (await serve(new ArraysPolicy(p), { token })).url;
  });

  it("guards /act and /metrics, not /healthz", async () => {
    const obs = { observation: [0, 0, 0, 0, 0, 0, 0, 0] };
    for (const path of ["/act", "/metrics"]) {
      const call = (headers: Record<string, string>) => (path === "/act" ? act(url, obs, { headers }) : send(url, { method: "GET", path, headers }));
      const none = await call({});
      expect(none.status).toBe(401);
      expect(none.headers["www-authenticate"]).toMatch(/^Bearer/);
      expect((none.json as { error: string }).error).toMatch(/^authorization: missing, expected the header "Authorization: Bearer <token>"/);
      const wrong = await call({ authorization: `Bearer ${token.slice(0, -1)}x` });
      expect(wrong.status).toBe(401);
      expect((wrong.json as { error: string }).error).not.toContain(token);
      expect((await call({ authorization: token })).status).toBe(401);
      expect((await call({ authorization: `Bearer ${token}` })).status).toBe(200);
    }
    expect((await send(url, { method: "GET", path: "/healthz" })).status).toBe(200);
  });

  it("a port in use is a one-line error", async () => {
    const port = Number(new URL(url).port);
    await expect(startServer({ policy: new ArraysPolicy(p), port })).rejects.toThrow(new RegExp(`^--host "127.0.0.1" --port ${port}: port ${port} is already in use on 127.0.0.1; choose another --port`));
  });

  it("binding beyond loopback without a token is refused before listening; short tokens are refused", async () => {
    await expect(startServer({ policy: new ArraysPolicy(p), host: "0.0.0.0", port: 0 })).rejects.toThrow(/--host "0.0.0.0": binding beyond loopback needs a bearer token/);
    await expect(startServer({ policy: new ArraysPolicy(p), port: 0, token: "short" })).rejects.toThrow(/got a token of 5 characters, expected 16 to 512/);
  });
});
