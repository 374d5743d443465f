// ONNX export: real tiny runs, the serialised model opened in ONNX Runtime (onnxruntime-node), compared with the
// float64 reference forward (policyQValues) and the agent's own network.
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import { decodeOnnxModel, onnxMetadata, onnxModel, onnxRunner, quantizeColumns } from "../../src/export/onnx.js";
import { greedyPolicy, policyQValues } from "../../src/export/policy.js";
import { agentQValues, argmaxRows, clearRows, expectRelClose, tinyRun, VARIANTS } from "./helpers.js";

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
    expect(Array.from(actions)).toEqual(argmaxRows(q, n, p.actions));
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

  it("int8 of a 256-256 network: at most 30% of the float32 file, greedy actions agree on ≥ 99% of 10,000 replay states", async () => {
    const dir = await tinyRun(["agent.network.hidden=[256, 256]", "experiment.totalSteps=400"]);
    const p = await greedyPolicy(dir);
    const fp32 = onnxModel(p);
    const int8 = onnxModel(p, { int8: true });
    expect(int8.length).toBeLessThanOrEqual(0.3 * fp32.length);
    const ops = decodeOnnxModel(int8).graph.node.map((nd: { op_type: string }) => nd.op_type);
    expect(ops).toContain("DynamicQuantizeLinear");
    expect(ops).toContain("MatMulInteger");
    expect(onnxMetadata(int8)["qttdm.weights"]).toBe("int8");

    const { agreement, replayStates } = await import("../../src/export/index.js");
    const states = await replayStates(dir, 10_000, 1);
    expect(states.source).toMatch(/replay\.bin/);
    const r = await agreement(fp32, int8, p.obsDim, states.obs, 10_000);
    expect(r.states).toBe(10_000);
    expect(r.agreement).toBeGreaterThanOrEqual(0.99);
  });
});
