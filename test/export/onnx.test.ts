// ONNX export: real tiny runs, the serialised model opened in ONNX Runtime (onnxruntime-node), compared with the
// float64 reference forward (policyQValues) and the agent's own network.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import { decodeOnnxModel, onnxMetadata, onnxModel, onnxRunner } from "../../src/export/onnx.js";
import { quantizationPlan, quantizeColumns, refitProduct, residualPlane, residualScale } from "../../src/export/quantize.js";
import { exportPolicy, keepFloatPredicate } from "../../src/export/index.js";
import { argmaxRows, policyQValues } from "../../src/export/forward.js";
import { greedyPolicy } from "../../src/export/policy.js";
import { agentQValues, clearRows, expectRelClose, tinyRun, VARIANTS } from "./helpers.js";

describe("ONNX export", () => {
  it.each(VARIANTS)("%s: ONNX Runtime computes the agent's Q-values and actions", async (_, extra) => {
    const dir = await tinyRun(extra);
    const p = await greedyPolicy(dir);
    const n = 64;
    const obs = new Rng(3).fillNormal(new Float32Array(n * p.obsDim), 0, 1);
    const bytes = onnxModel(p);
    const runner = await onnxRunner(bytes, p.obsDim);
    const { q, actions } = await runner.run(obs, n);
    await runner.release();
    const ref = policyQValues(p, obs, n);
    const agent = await agentQValues(dir, p, obs, n);
    expectRelClose(q, ref, 1e-5);
    expectRelClose(q, agent, 1e-5);
    expect(Array.from(actions)).toEqual(Array.from(argmaxRows(q, n, p.actions)));
    // Actions equal wherever the reference's best action is not a near tie.
    const clear = clearRows(ref, n, p.actions, 1e-5);
    expect(clear.length).toBeGreaterThan(n / 2);
    const refActions = argmaxRows(ref, n, p.actions);
    const agentActions = argmaxRows(agent, n, p.actions);
    for (const r of clear) {
      expect(actions[r]).toBe(refActions[r]);
      expect(actions[r]).toBe(agentActions[r]);
    }

    const m = decodeOnnxModel(bytes);
    expect(m.ir_version).toBe(8);
    expect(m.opset_import).toEqual([{ domain: "", version: 17 }]);
    expect(m.graph.input.map((v: { name: string }) => v.name)).toEqual(["observation"]);
    expect(m.graph.output.map((v: { name: string }) => v.name)).toEqual(["q_values", "action"]);
    expect(m.graph.input[0].type.tensor_type.shape.dim).toEqual([{ dim_param: "batch" }, { dim_value: p.obsDim }]);
    expect(m.graph.output[1].type.tensor_type.elem_type).toBe(7); // int64
    const ops = new Set(m.graph.node.map((nd: { op_type: string }) => nd.op_type));
    if (extra.some((e) => e.includes("layerNorm"))) expect(ops).toContain("LayerNormalization");
    if (extra.some((e) => e.includes("dueling"))) expect(ops).toContain("ReduceMean");
    if (extra.some((e) => e.includes("gelu"))) expect(ops).toContain("Erf");
    const meta = onnxMetadata(bytes);
    expect(meta).toMatchObject({ "qttdm.env": "LunarLander-v3", "qttdm.obs_dim": "8", "qttdm.actions": "4", "qttdm.preprocess": "none", "qttdm.weights": "float32" });
    expect(meta["qttdm.checkpoint"]).toBe(p.checkpoint);
    expect(meta["qttdm.source"]).toBe(p.source);
    expect(m.doc_string).toContain(p.source);
  });

  it("symlog preprocessing runs inside the graph", async () => {
    const dir = await tinyRun([]);
    const p = { ...(await greedyPolicy(dir)), preprocess: "symlog" as const };
    const n = 16;
    const obs = new Rng(5).fillNormal(new Float32Array(n * p.obsDim), 0, 10);
    const runner = await onnxRunner(onnxModel(p), p.obsDim);
    const { q } = await runner.run(obs, n);
    await runner.release();
    expectRelClose(q, policyQValues(p, obs, n), 1e-5);
  });

  it("quantizes each kernel column symmetrically with scale max|w|/127", () => {
    const k = Float32Array.from([0.5, -2, 0, -0.25, 1, 0]); // [3, 2]: columns [0.5, 0, 1] and [-2, -0.25, 0]
    const { q, scale } = quantizeColumns(k, 3, 2);
    expect(Array.from(scale)).toEqual([Math.fround(1 / 127), Math.fround(2 / 127)]);
    expect(Array.from(q)).toEqual([64, -127, 0, -16, 127, 0]);
    expect(Array.from(quantizeColumns(new Float32Array(4), 2, 2).scale)).toEqual([1, 1]); // all-zero columns
  });

  it("two int8 planes hold each weight to within half a step of s / 254", () => {
    const k = new Rng(1).fillNormal(new Float32Array(64 * 8), 0, 1);
    const grid = quantizeColumns(k, 64, 8);
    const r = residualPlane(k, grid, 8);
    const s2 = residualScale(grid.scale);
    let worst = 0;
    for (let i = 0; i < k.length; i++) {
      const w = grid.q[i]! * grid.scale[i % 8]! + r[i]! * s2[i % 8]!;
      worst = Math.max(worst, Math.abs(w - k[i]!) / s2[i % 8]!);
    }
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-4);
    expect(Math.max(...Array.from(r, Math.abs))).toBeLessThanOrEqual(127);
  });

  it("the output refit recovers a linear map from its inputs and outputs", () => {
    const m = 400, d = 6, o = 3;
    const rng = new Rng(2);
    const x = rng.fillNormal(new Float32Array(m * d), 0, 1);
    const w = rng.fillNormal(new Float32Array(d * o), 0, 1);
    const b = Float32Array.of(0.5, -1, 2);
    const y = new Float64Array(m * o);
    for (let r = 0; r < m; r++) for (let j = 0; j < o; j++) {
      let s = b[j]!;
      for (let i = 0; i < d; i++) s += x[r * d + i]! * w[i * o + j]!;
      y[r * o + j] = s;
    }
    // Pulled towards the map itself, the ridge changes nothing; towards zero, it shrinks by ~1e-3 only.
    const same = refitProduct(x, m, d, y, o, w, b);
    expectRelClose(same.kernel, w, 1e-5);
    expectRelClose(same.bias, b, 1e-5);
    const fromZero = refitProduct(x, m, d, y, o, new Float32Array(d * o), null);
    expectRelClose(fromZero.kernel, w, 5e-3);
  });

  it("int8 of a 256-256 network: at most 30% of the float32 file, greedy actions agree on ≥ 99% of 10,000 replay states, ONNX Runtime fuses it", async () => {
    const dir = await tinyRun(["agent.network.hidden=[256, 256]", "experiment.totalSteps=400"]);
    const out = join(mkdtempSync(join(tmpdir(), "qttdm-int8-")), "policy-int8.onnx");
    const lines: string[] = [];
    const r = await exportPolicy({ checkpoint: dir, int8: true, out, print: (l) => lines.push(l) });
    const int8 = new Uint8Array(readFileSync(out));
    expect(int8.length).toBe(r.bytes);
    expect(r.bytes).toBeLessThanOrEqual(0.3 * r.fp32Bytes!);
    expect(r.agreement!.states).toBe(10_000);
    expect(r.agreement!.source).toMatch(/replay\.bin/);
    expect(r.agreement!.agreement).toBeGreaterThanOrEqual(0.99);
    expect(lines.join("\n")).toMatch(/int8 vs float32 greedy actions: (99\.\d\d|100\.00)% agree on 10000 states/);
    const m = decodeOnnxModel(int8);
    const ops = m.graph.node.map((nd: { op_type: string }) => nd.op_type);
    // The hidden product in two passes (input, residual); the first and output products as two int8 planes.
    expect(ops.filter((o: string) => o === "MatMulInteger")).toHaveLength(2);
    expect(ops.filter((o: string) => o === "DynamicQuantizeLinear")).toHaveLength(2);
    expect(ops.filter((o: string) => o === "DequantizeLinear")).toHaveLength(5);
    expect(m.graph.initializer.filter((t: { data_type: number }) => t.data_type === 3)).toHaveLength(5); // int8 tensors
    expect(onnxMetadata(int8)["qttdm.weights"]).toBe("int8");
    // ONNX Runtime's graph optimiser turns each pass into one com.microsoft fused integer product.
    const optimized = join(dirname(out), "optimized.onnx");
    const session = await ort.InferenceSession.create(int8, { optimizedModelFilePath: optimized, logSeverityLevel: 3 });
    await session.release();
    const fused = decodeOnnxModel(new Uint8Array(readFileSync(optimized))).graph.node.map((nd: { op_type: string }) => nd.op_type);
    expect(fused.filter((o: string) => o === "DynamicQuantizeMatMul" || o === "MatMulIntegerToFloat")).toHaveLength(2);
    expect(fused).not.toContain("MatMulInteger");
  });

  it.each(VARIANTS)("%s: the int8 graph computes its plan's dequantised network", async (_, extra) => {
    const dir = await tinyRun(extra);
    const p = await greedyPolicy(dir);
    const cal = { obs: new Rng(4).fillNormal(new Float32Array(512 * p.obsDim), 0, 1), n: 512 };
    const opts = { int8: true, calibration: cal, smooth: 0.5 };
    const plan = quantizationPlan(p, opts);
    const kinds = plan.products.map((x) => x.kind);
    expect(kinds[0]).toBe("planes");
    expect(kinds[kinds.length - 1]).toBe("planes");
    expect(kinds.slice(1, -1).every((k) => k === "dynamic")).toBe(true);
    const n = 64;
    const obs = new Rng(3).fillNormal(new Float32Array(n * p.obsDim), 0, 1);
    const runner = await onnxRunner(onnxModel(p, opts), p.obsDim);
    const { q } = await runner.run(obs, n);
    await runner.release();
    // Activations are rounded per call in two passes: ~1/65,000 of their range.
    expectRelClose(q, policyQValues(plan.dequantized, obs, n), 2e-4);
  });

  it("int8 with the first and last layers kept float32", async () => {
    const dir = await tinyRun(["agent.network.dueling=true"]);
    const p = await greedyPolicy(dir);
    const keep = keepFloatPredicate(p, ["first", "last"]);
    expect([0, 1, 2].map(keep)).toEqual([false, true, false]); // dense, dense, dueling (value and advantage in one product)
    const bytes = onnxModel(p, { int8: true, quantize: keep });
    const ops = decodeOnnxModel(bytes).graph.node.map((nd: { op_type: string }) => nd.op_type);
    expect(ops.filter((o: string) => o === "MatMulInteger")).toHaveLength(2); // one hidden product, two passes
    expect(ops.filter((o: string) => o === "Gemm")).toHaveLength(2);
    expect(ops.filter((o: string) => o === "DequantizeLinear")).toHaveLength(1); // the hidden input's rounding, no weight planes
  });
});
