/**
 * ONNX export of a greedy policy ({@link GreedyPolicy}): the graph is built here from the policy's arrays and
 * serialised with protobufjs against the subset of onnx.proto it needs (field numbers as in onnx/onnx's
 * onnx/onnx.proto). Opset 17, IR version 8.
 *
 * Graph: input `observation` float32 [batch, obsDim] → (symlog) → dense/LayerNormalization layers → dueling head →
 * outputs `q_values` float32 [batch, actions] and `action` int64 [batch] (ArgMax over the actions, first index on
 * ties).
 *
 * int8 (`int8: true`): the dense products as export/quantize.ts plans them. The first product (it reads the
 * observations) and the output product are stored as two int8 planes per output column and computed in float32
 * (DequantizeLinear + Add → Gemm). Each hidden product keeps int8 weights (per output column, symmetric, zero point
 * 0) and quantises its input per call in two passes, the input and then its rounding residual, each
 * DynamicQuantizeLinear → MatMulInteger → Cast → Mul by (input scale × column scales): ONNX Runtime fuses each pass
 * into one DynamicQuantizeMatMul. An input's scale covers the whole batch of a call; the residual pass makes what
 * that changes negligible (~1/65,000 of the input's range). LayerNormalization, activations and the dueling
 * combination stay in float32.
 */
import { readFileSync } from "node:fs";
import protobuf from "protobufjs";
import type { GreedyPolicy, PolicyLayer } from "./policy.js";
import { denseProducts, floatPlan, quantizationPlan, RESIDUAL_STEPS, type QuantizationOptions } from "./quantize.js";
import type { DenseSpecActivation } from "./types.js";

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;

/** The part of onnx.proto (proto2, package onnx) this exporter writes; field numbers are onnx.proto's. */
const ONNX_PROTO = `
syntax = "proto2";
package onnx;
message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; FLOATS = 6; INTS = 7; STRINGS = 8; }
  optional string name = 1;
  optional string doc_string = 13;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
}
message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}
message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}
message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}
message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}
message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
}
message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}
message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

let root: protobuf.Root | null = null;
/** The ModelProto type (parsed once, snake_case field names as in onnx.proto). */
export function onnxModelType(): protobuf.Type {
  root ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
  return root.lookupType("onnx.ModelProto");
}

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

type Attr = number | bigint | string | number[] | { float: number };
interface NodeJson {
  input: string[];
  output: string[];
  op_type: string;
  attribute: Record<string, unknown>[];
}
interface TensorJson {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

/** Little-endian bytes of a typed array (all platforms Node runs on are little-endian; checked once). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function bytesOf(a: Float32Array | Int8Array | Uint8Array | BigInt64Array): Uint8Array {
  if (!LITTLE_ENDIAN) throw new Error("ONNX export: big-endian hosts are not supported");
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** A graph under construction: nodes in topological order, initializers, unique names. */
class GraphBuilder {
  readonly nodes: NodeJson[] = [];
  readonly initializers: TensorJson[] = [];
  private used = new Set<string>();
  private counts = new Map<string, number>();

  private fresh(base: string): string {
    let n = this.counts.get(base) ?? 0;
    let name = base;
    while (this.used.has(name)) name = `${base}_${++n}`;
    this.counts.set(base, n);
    this.used.add(name);
    return name;
  }

  reserve(name: string): string {
    if (this.used.has(name)) throw new Error(`ONNX export: duplicate name ${name}`);
    this.used.add(name);
    return name;
  }

  init(base: string, dims: number[], dataType: number, data: Float32Array | Int8Array | Uint8Array | BigInt64Array): string {
    const name = this.fresh(base);
    this.initializers.push({ name, dims, data_type: dataType, raw_data: bytesOf(data) });
    return name;
  }

  private scalars = new Map<number, string>();
  /** A float32 scalar initializer, shared by every node that uses the same value. */
  scalar(base: string, v: number): string {
    let name = this.scalars.get(v);
    if (name === undefined) this.scalars.set(v, (name = this.init(base, [], DataType.FLOAT, Float32Array.of(v))));
    return name;
  }

  /** Adds a node; returns its output names (fresh names from `outBase` unless `outputs` are given). */
  node(op: string, inputs: string[], opts: { attrs?: Record<string, Attr>; outs?: number; outputs?: string[]; base?: string } = {}): string[] {
    const base = opts.base ?? op.toLowerCase();
    const outputs = opts.outputs ?? Array.from({ length: opts.outs ?? 1 }, (_, i) => this.fresh(`${base}${opts.outs && opts.outs > 1 ? `_out${i}` : ""}`));
    const attribute = Object.entries(opts.attrs ?? {}).map(([name, v]) => {
      if (typeof v === "object" && !Array.isArray(v)) return { name, type: ATTR.FLOAT, f: v.float };
      if (Array.isArray(v)) return { name, type: ATTR.INTS, ints: v };
      if (typeof v === "string") return { name, type: ATTR.STRING, s: new TextEncoder().encode(v) };
      return { name, type: ATTR.INT, i: Number(v) };
    });
    // Nodes are unnamed (optional in ONNX; their outputs name them): names cost ~1 KB of a 80 KB int8 model.
    this.nodes.push({ input: inputs, output: outputs, op_type: op, attribute });
    return outputs;
  }

  one(op: string, inputs: string[], opts: { attrs?: Record<string, Attr>; base?: string; output?: string } = {}): string {
    return this.node(op, inputs, { ...opts, outputs: opts.output ? [opts.output] : undefined })[0]!;
  }
}

export interface OnnxExportOptions extends QuantizationOptions {
  /** int8 dense products as export/quantize.ts plans them (see the module comment); the options below apply to it. */
  int8?: boolean;
}

/** `name` = value pairs written to the model's metadata_props (and read back by {@link onnxMetadata}). */
export function policyMetadata(policy: GreedyPolicy, weights: "float32" | "int8"): Record<string, string> {
  return {
    "qttdm.source": policy.source,
    "qttdm.env": policy.env,
    "qttdm.checkpoint": policy.checkpoint,
    "qttdm.obs_dim": String(policy.obsDim),
    "qttdm.actions": String(policy.actions),
    "qttdm.preprocess": policy.preprocess,
    "qttdm.weights": weights,
    "qttdm.inputs": "observation: float32 [batch, obs_dim]",
    "qttdm.outputs": "q_values: float32 [batch, actions]; action: int64 [batch] (argmax of q_values)",
  };
}

function packageVersion(): string {
  try {
    // src/export/ and dist/export/ are both two levels below the package root.
    return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** The policy as a serialised ONNX ModelProto. */
export function onnxModel(policy: GreedyPolicy, opts: OnnxExportOptions = {}): Uint8Array {
  const int8 = !!opts.int8;
  const g = new GraphBuilder();
  const input = g.reserve("observation");
  const qOut = g.reserve("q_values");
  const actionOut = g.reserve("action");
  let x = input;

  if (policy.preprocess === "symlog") {
    // symlog(x) = sign(x) · log(1 + |x|)
    const one = g.scalar("one", 1);
    const log = g.one("Log", [g.one("Add", [g.one("Abs", [x]), one])]);
    x = g.one("Mul", [g.one("Sign", [x]), log], { base: "symlog" });
  }

  const plan = int8 ? quantizationPlan(policy, opts) : floatPlan(policy);
  const productOf = new Map(denseProducts(policy).map((p, i) => [p.layer, { ...p, plan: plan.products[i]! }]));
  const product = (h: string, layer: number, base: string): string => {
    const { inDim, outDim, plan: p } = productOf.get(layer)!;
    const bias = p.bias ? [g.init(`${base}.bias`, [outDim], DataType.FLOAT, p.bias)] : [];
    if (p.kind === "float") return g.one("Gemm", [h, g.init(`${base}.kernel`, [inDim, outDim], DataType.FLOAT, p.kernel), ...bias], { base });
    const w = g.init(`${base}.kernel_int8`, [inDim, outDim], DataType.INT8, p.weights.q);
    const wScale = g.init(`${base}.kernel_scale`, [outDim], DataType.FLOAT, p.weights.scale);
    if (p.kind === "planes") {
      const first = g.one("DequantizeLinear", [w, wScale], { attrs: { axis: 1 }, base: `${base}.kernel` });
      const residualScale = g.one("Div", [wScale, g.scalar("residual_steps", RESIDUAL_STEPS)], { base: `${base}.kernel_residual_scale` });
      const residual = g.init(`${base}.kernel_residual_int8`, [inDim, outDim], DataType.INT8, p.residual);
      const second = g.one("DequantizeLinear", [residual, residualScale], { attrs: { axis: 1 }, base: `${base}.kernel_residual` });
      return g.one("Gemm", [h, g.one("Add", [first, second], { base: `${base}.kernel_planes` }), ...bias], { base });
    }
    // One pass: DynamicQuantizeLinear → MatMulInteger → Cast → Mul by (input scale × column scales), the pattern
    // ONNX Runtime fuses into DynamicQuantizeMatMul.
    const pass = (input: string, name: string) => {
      const [xq, xScale, xZero] = g.node("DynamicQuantizeLinear", [input], { outs: 3, base: `${base}.${name}_quant` });
      const acc = g.one("MatMulInteger", [xq!, w, xZero!], { base: `${base}.${name}_mmi` });
      const accF = g.one("Cast", [acc], { attrs: { to: DataType.FLOAT }, base: `${base}.${name}_matmul_float` });
      return { y: g.one("Mul", [accF, g.one("Mul", [xScale!, wScale], { base: `${base}.${name}_scale` })], { base: `${base}.${name}_dequant` }), xq: xq!, xScale: xScale!, xZero: xZero! };
    };
    // x: the input, r: its rounding residual.
    const main = pass(h, "x");
    const rest = g.one("Sub", [h, g.one("DequantizeLinear", [main.xq, main.xScale, main.xZero], { base: `${base}.x_rounded` })], { base: `${base}.r` });
    const y = g.one("Add", [main.y, pass(rest, "r").y], { base: `${base}.matmul` });
    return bias.length ? g.one("Add", [y, bias[0]!], { base }) : y;
  };

  const activate = (h: string, act: DenseSpecActivation, base: string): string => {
    switch (act) {
      case "linear":
        return h;
      case "relu":
        return g.one("Relu", [h], { base: `${base}.relu` });
      case "leaky_relu":
        return g.one("LeakyRelu", [h], { attrs: { alpha: { float: 0.01 } }, base: `${base}.leaky_relu` });
      case "tanh":
        return g.one("Tanh", [h], { base: `${base}.tanh` });
      case "gelu": {
        // x · 0.5 · (1 + erf(x / √2))
        const erf = g.one("Erf", [g.one("Div", [h, g.scalar("sqrt2", Math.SQRT2)])]);
        const cdf = g.one("Mul", [g.one("Add", [erf, g.scalar("one", 1)]), g.scalar("half", 0.5)]);
        return g.one("Mul", [h, cdf], { base: `${base}.gelu` });
      }
    }
  };

  plan.policy.layers.forEach((l: PolicyLayer, i) => {
    const base = `layer${i}`;
    if (l.kind === "dense") {
      x = activate(product(x, i, `${base}.dense`), l.activation, base);
    } else if (l.kind === "layerNorm") {
      const gamma = g.init(`${base}.gamma`, [l.dim], DataType.FLOAT, l.gamma);
      const beta = g.init(`${base}.beta`, [l.dim], DataType.FLOAT, l.beta);
      x = activate(g.one("LayerNormalization", [x, gamma, beta], { attrs: { axis: -1, epsilon: { float: l.eps } }, base: `${base}.layer_norm` }), l.activation, base);
    } else {
      // The value and advantage heads as one product ([in, 1 + actions]), split after.
      const A = l.actions;
      const va = product(x, i, `${base}.value_advantage`);
      const split = g.init(`${base}.split`, [2], DataType.INT64, BigInt64Array.of(1n, BigInt(A)));
      const [v, a] = g.node("Split", [va, split], { attrs: { axis: 1 }, outs: 2, base: `${base}.split` });
      const mean = g.one("ReduceMean", [a!], { attrs: { axes: [1], keepdims: 1 }, base: `${base}.advantage_mean` });
      // Q = V + A − mean(A)
      x = g.one("Sub", [g.one("Add", [v!, a!], { base: `${base}.v_plus_a` }), mean], { base: `${base}.dueling` });
    }
  });
  g.one("Identity", [x], { output: qOut });
  g.one("ArgMax", [qOut], { attrs: { axis: 1, keepdims: 0 }, output: actionOut });

  const tensorType = (elem: number, dims: (number | string)[]) => ({
    tensor_type: { elem_type: elem, shape: { dim: dims.map((d) => (typeof d === "string" ? { dim_param: d } : { dim_value: d })) } },
  });
  const weights = int8 ? "int8" : "float32";
  const meta = policyMetadata(policy, weights);
  const model = {
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: "", version: ONNX_OPSET }],
    producer_name: "qttdm",
    producer_version: packageVersion(),
    domain: "qttdm",
    model_version: 1,
    doc_string:
      `Greedy ${policy.env} policy exported by qttdm from ${policy.source} (checkpoint ${policy.checkpoint}); ` +
      `observation [batch, ${policy.obsDim}] float32${policy.preprocess === "symlog" ? " (symlog applied inside the graph)" : ""} → ` +
      `q_values [batch, ${policy.actions}] float32 and action [batch] int64 (argmax); ${int8 ? "dense weights int8 per output column (hidden layers: int8 products, activations quantised per call; first and output layers: two int8 planes, float32 compute)" : "float32 weights"}.`,
    graph: {
      name: "qttdm_policy",
      node: g.nodes,
      initializer: g.initializers,
      input: [{ name: input, type: tensorType(DataType.FLOAT, ["batch", policy.obsDim]) }],
      output: [
        { name: qOut, type: tensorType(DataType.FLOAT, ["batch", policy.actions]) },
        { name: actionOut, type: tensorType(DataType.INT64, ["batch"]) },
      ],
    },
    metadata_props: Object.entries(meta).map(([key, value]) => ({ key, value })),
  };
  const T = onnxModelType();
  const err = T.verify(model);
  if (err) throw new Error(`ONNX export: ${err}`);
  return T.encode(T.fromObject(model)).finish();
}

/** A decoded ModelProto as plain JSON (int64 as numbers, bytes as base64), for inspection and tests. */
export function decodeOnnxModel(bytes: Uint8Array): Record<string, any> {
  const T = onnxModelType();
  return T.toObject(T.decode(bytes), { longs: Number, bytes: String, defaults: false, arrays: true }) as Record<string, any>;
}

/** The model's metadata_props as a map. */
export function onnxMetadata(bytes: Uint8Array): Record<string, string> {
  const m = decodeOnnxModel(bytes);
  return Object.fromEntries((m.metadata_props as { key: string; value: string }[]).map((e) => [e.key, e.value]));
}

/** A policy model opened in ONNX Runtime (onnxruntime-node, loaded on first use). */
export interface OnnxPolicyRunner {
  /** Q-values [n * actions] and greedy actions [n] of n observations ([n * obsDim]). */
  run(obs: Float32Array, n: number): Promise<{ q: Float32Array; actions: Int32Array }>;
  release(): Promise<void>;
}

/** Opens a serialised policy model (from {@link onnxModel}) in ONNX Runtime on the CPU, with one compute thread. */
export async function onnxRunner(bytes: Uint8Array, obsDim: number): Promise<OnnxPolicyRunner> {
  const ort = await import("onnxruntime-node");
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: "all" });
  return {
    async run(obs, n) {
      const out = await session.run({ observation: new ort.Tensor("float32", obs.subarray(0, n * obsDim), [n, obsDim]) });
      const q = Float32Array.from(out.q_values!.data as Float32Array);
      const actions = Int32Array.from(out.action!.data as BigInt64Array, (v) => Number(v));
      return { q, actions };
    },
    release: () => session.release(),
  };
}
