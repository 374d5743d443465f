// qttdm serve --model: ONNX models written by the exporter (export/onnx.ts), run by ONNX Runtime.
import type { ChildProcess } from "node:child_process";
import http from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import { onnxModel } from "../../src/export/onnx.js";
import { policyQValues } from "../../src/export/forward.js";
import { greedyPolicy, type GreedyPolicy } from "../../src/export/policy.js";
import { OnnxPolicy } from "../../src/serve/onnx.js";
import { startServer, type RunningServer } from "../../src/serve/server.js";
import { qttdm } from "../helpers/cli.js";
import { act, sample, send, startServe, stopChild, tinyRun } from "./helpers.js";

let p: GreedyPolicy;
let fp32: string;
let int8: string;
const servers: RunningServer[] = [];
const policies: OnnxPolicy[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  p = await greedyPolicy(await tinyRun(["agent.network.layerNorm=true", "agent.network.dueling=true"]));
  const dir = mkdtempSync(join(tmpdir(), "qttdm-serve-onnx-"));
  fp32 = join(dir, "policy.onnx");
  int8 = join(dir, "policy-int8.onnx");
  writeFileSync(fp32, onnxModel(p));
  writeFileSync(int8, onnxModel(p, { int8: true }));
});

afterAll(async () => {
  for (const s of servers) await s.close();
  for (const q of policies) await q.close();
  for (const c of children) stopChild(c);
});

const rowsOf = (obs: Float32Array, n: number) => Array.from({ length: n }, (_, r) => Array.from(obs.subarray(r * p.obsDim, (r + 1) * p.obsDim)));

describe("qttdm serve --model (ONNX Runtime)", () => {
  it("the fp32 model serves the policy's Q-values and actions, single and batched", async () => {
    const policy = await OnnxPolicy.open(fp32);
    policies.push(policy);
    expect([policy.obsDim, policy.numActions]).toEqual([8, 4]);
    expect(policy.description).toMatch(/^ONNX model .*policy\.onnx \(8 inputs, 4 actions\), ONNX Runtime/);
    const s = await startServer({ policy, port: 0 });
    servers.push(s);
    const n = 25;
    const obs = new Rng(7).fillNormal(new Float32Array(n * 8), 0, 1);
    const want = policyQValues(p, obs, n);
    const batch = (await act(s.url, { observations: rowsOf(obs, n), q_values: true })).json as { actions: number[]; q_values: number[][] };
    batch.q_values.forEach((row, i) => {
      row.forEach((v, j) => expect(v).toBeCloseTo(want[i * 4 + j]!, 4));
      expect(batch.actions[i]).toBe(row.indexOf(Math.max(...row)));
    });
    const one = (await act(s.url, { observation: rowsOf(obs, 1)[0], q_values: true })).json as { action: number; q_values: number[] };
    one.q_values.forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 4));
    expect(one.action).toBe(batch.actions[0]);
  });

  it("batches concurrent requests into one ONNX Runtime call (its runs are asynchronous)", async () => {
    const policy = await OnnxPolicy.open(fp32);
    policies.push(policy);
    const s = await startServer({ policy, port: 0, batchWindowMs: 5 });
    servers.push(s);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    const obs = new Rng(8).fillNormal(new Float32Array(32 * 8), 0, 1);
    const want = policyQValues(p, obs, 32);
    const answers = await Promise.all(rowsOf(obs, 32).map((o) => act(s.url, { observation: o, q_values: true }, { agent })));
    agent.destroy();
    answers.forEach((a, i) => (a.json as { q_values: number[] }).q_values.forEach((v, j) => expect(v).toBeCloseTo(want[i * 4 + j]!, 4)));
    const m = (await send(s.url, { method: "GET", path: "/metrics" })).text;
    expect(sample(m, "qttdm_serve_batch_requests_sum")).toBe(32);
    expect(sample(m, "qttdm_serve_batch_requests_count")).toBeLessThan(32);
  });

  it("the int8 model serves the model's own answers, close to the float policy", async () => {
    const policy = await OnnxPolicy.open(int8);
    policies.push(policy);
    const obs = new Rng(9).fillNormal(new Float32Array(8), 0, 1);
    const direct = await policy.run(obs, 1);
    const s = await startServer({ policy, port: 0 });
    servers.push(s);
    const r = (await act(s.url, { observation: Array.from(obs), q_values: true })).json as { action: number; q_values: number[] };
    expect(r.action).toBe(direct.actions[0]);
    r.q_values.forEach((v, j) => expect(v).toBeCloseTo(direct.q[j]!, 5));
    const want = policyQValues(p, obs, 1);
    const scale = Math.max(...Array.from(want, Math.abs), 1e-6);
    r.q_values.forEach((v, j) => expect(Math.abs(v - want[j]!)).toBeLessThan(0.1 * scale));
  });

  it("as a child: qttdm serve --model prints its address and the model", async () => {
    const { child, url, out } = await startServe(["--model", fp32]);
    children.push(child);
    expect(out.text).toMatch(/^qttdm serve: listening on http:\/\/127\.0\.0\.1:\d+ .*policy: ONNX model .*policy\.onnx \(8 inputs, 4 actions\)/);
    expect((await act(url, { observation: [0, 0, 0, 0, 0, 0, 0, 0] })).status).toBe(200);
    expect((await act(url, { observation: [0, 0, 0] })).status).toBe(400);
  });

  it("a file that is not an ONNX model is refused in one line", () => {
    const bad = join(mkdtempSync(join(tmpdir(), "qttdm-serve-onnx-bad-")), "x.onnx");
    writeFileSync(bad, "not a model");
    const r = qttdm(["serve", "--model", bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^qttdm: --model ".*x\.onnx": ONNX Runtime cannot load it: /);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
