/**
 * ONNX export of a greedy policy ({@link GreedyPolicy}): the graph is built here from the policy's arrays and
 * serialised with protobufjs against the subset of onnx.proto it needs (field numbers as in onnx/onnx's
 * onnx/onnx.proto). Opset 17, IR version 8.
 *
 * Graph: input `observation` float32 [batch, obsDim] → (symlog) → dense/LayerNormalization layers → dueling head →
 * outputs `q_values` float32 [batch, actions] and `action` int64 [batch] (ArgMax over the actions, first index on
 * ties).
 *
 * int8 (`int8: true`): every dense layer's kernel is quantised per output column, symmetric
 * (scale = max|w|/127, zero point 0), and its input dynamically per call: DynamicQuantizeLinear → MatMulInteger →
 * Cast → Mul by (input scale × column scales) → Add bias, the pattern ONNX Runtime fuses into
 * `MatMulIntegerToFloat` and then `DynamicQuantizeMatMul`. The input's scale covers the whole batch of a call, so a
 * state's Q-values can depend on what else is in its batch (acting, one state per call, is unaffected).
 * LayerNormalization, activations and the dueling combination stay in float32.
 */
import { readFileSync } from "node:fs";
import protobuf from "protobufjs";
import { policyQValues } from "./forward.js";
import type { GreedyPolicy, PolicyLayer } from "./policy.js";
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
  name: string;
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
    this.nodes.push({ input: inputs, output: outputs, name: this.fresh(`${base}_node`), op_type: op, attribute });
    return outputs;
  }

  one(op: string, inputs: string[], opts: { attrs?: Record<string, Attr>; base?: string; output?: string } = {}): string {
    return this.node(op, inputs, { ...opts, outputs: opts.output ? [opts.output] : undefined })[0]!;
  }
}

/** Per-output-column symmetric int8 quantisation of a row-major [inDim, outDim] kernel: w ≈ q · scale[col]. */
export function quantizeColumns(kernel: Float32Array, inDim: number, outDim: number): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(outDim);
  for (let j = 0; j < outDim; j++) {
    let m = 0;
    for (let k = 0; k < inDim; k++) m = Math.max(m, Math.abs(kernel[k * outDim + j]!));
    scale[j] = m > 0 ? m / 127 : 1;
  }
  const q = new Int8Array(inDim * outDim);
  for (let k = 0; k < inDim; k++) {
    for (let j = 0; j < outDim; j++) q[k * outDim + j] = Math.max(-127, Math.min(127, Math.round(kernel[k * outDim + j]! / scale[j]!)));
  }
  return { q, scale };
}

/**
 * Error-compensated rounding of a kernel to the per-column int8 grid of {@link quantizeColumns} (GPTQ, Frantar et
 * al. 2023, with per-column scales): the input rows are rounded one at a time and each row's rounding error is
 * spread over the rows not yet rounded, weighted by the inverse of the inputs' second-moment matrix
 * H = XᵀX/m (+1% of its mean diagonal), so that X·W_q stays close to X·W on the calibration inputs X [m, inDim]
 * rather than each weight close to its own value.
 * @returns the int8 values and scales (the same scales as plain rounding)
 */
export function quantizeColumnsCalibrated(kernel: Float32Array, inDim: number, outDim: number, x: Float32Array, m: number): { q: Int8Array; scale: Float32Array } {
  const { scale } = quantizeColumns(kernel, inDim, outDim);
  const h = new Float64Array(inDim * inDim);
  for (let r = 0; r < m; r++) {
    const row = x.subarray(r * inDim, (r + 1) * inDim);
    for (let i = 0; i < inDim; i++) {
      const xi = row[i]!;
      if (xi === 0) continue; // ReLU outputs are often zero
      for (let j = 0; j < inDim; j++) h[i * inDim + j] += xi * row[j]!;
    }
  }
  let meanDiag = 0;
  for (let i = 0; i < inDim; i++) meanDiag += h[i * inDim + i]! / inDim;
  const damp = 0.01 * (meanDiag > 0 ? meanDiag : 1);
  for (let i = 0; i < inDim; i++) h[i * inDim + i] = (h[i * inDim + i]! === 0 ? 1 : h[i * inDim + i]!) + damp;
  const u = upperCholeskyOfInverse(h, inDim);
  const w = Float64Array.from(kernel);
  const q = new Int8Array(inDim * outDim);
  for (let i = 0; i < inDim; i++) {
    const d = u[i * inDim + i]!;
    for (let j = 0; j < outDim; j++) {
      const v = w[i * outDim + j]!;
      const k = Math.max(-127, Math.min(127, Math.round(v / scale[j]!)));
      q[i * outDim + j] = k;
      const e = (v - k * scale[j]!) / d;
      if (e !== 0) for (let r = i + 1; r < inDim; r++) w[r * outDim + j] -= e * u[i * inDim + r]!;
    }
  }
  return { q, scale };
}

/** Lower Cholesky factor L (A = LLᵀ) of a symmetric positive-definite [d, d] matrix. */
function cholesky(a: Float64Array, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j]!;
      for (let k = 0; k < j; k++) s -= l[i * d + k]! * l[j * d + k]!;
      if (i === j) {
        if (!(s > 0)) throw new Error("ONNX export: the calibration inputs' second-moment matrix is not positive definite");
        l[i * d + i] = Math.sqrt(s);
      } else l[i * d + j] = s / l[j * d + j]!;
    }
  }
  return l;
}

/** U with H⁻¹ = UᵀU (U upper triangular), as GPTQ uses it. */
function upperCholeskyOfInverse(h: Float64Array, d: number): Float64Array {
  const l = cholesky(h, d);
  // L⁻¹ (lower), then H⁻¹ = L⁻ᵀ L⁻¹.
  const li = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    li[i * d + i] = 1 / l[i * d + i]!;
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = j; k < i; k++) s += l[i * d + k]! * li[k * d + j]!;
      li[i * d + j] = -s / l[i * d + i]!;
    }
  }
  const inv = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < d; k++) s += li[k * d + i]! * li[k * d + j]!;
      inv[i * d + j] = s;
      inv[j * d + i] = s;
    }
  }
  const l2 = cholesky(inv, d);
  const u = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) u[i * d + j] = l2[j * d + i]!;
  return u;
}

export interface OnnxExportOptions {
  /** Dynamic int8 quantisation of the dense layers (see the module comment). */
  int8?: boolean;
  /** With int8: which dense products to quantise, by their order in the graph (0 = first); default all. */
  quantize?: (index: number, inDim: number, outDim: number) => boolean;
  /**
   * With int8: observations [n, obsDim] to calibrate the rounding on ({@link quantizeColumnsCalibrated}); each
   * layer's inputs are computed through the layers before it as quantised. Without: plain rounding.
   */
  calibration?: { obs: Float32Array; n: number };
  /**
   * With calibration: SmoothQuant's migration strength α in (0, 1] for the layers after the first (hidden inputs);
   * per-input-channel scales max|x|^α / max|w|^(1−α). The first layer's inputs, observations, are not smoothed.
   */
  smooth?: number;
}

/** SmoothQuant scales s_k = max|x_k|^α / max_j|W_kj|^(1−α) (1 where either is zero). */
function smoothingScales(x: Float32Array, n: number, kernel: Float32Array, inDim: number, outDim: number, alpha: number): Float32Array {
  const ax = new Float64Array(inDim);
  for (let i = 0; i < n * inDim; i++) ax[i % inDim] = Math.max(ax[i % inDim]!, Math.abs(x[i]!));
  const s = new Float32Array(inDim);
  for (let k = 0; k < inDim; k++) {
    let aw = 0;
    for (let j = 0; j < outDim; j++) aw = Math.max(aw, Math.abs(kernel[k * outDim + j]!));
    const v = ax[k]! > 0 && aw > 0 ? Math.pow(ax[k]!, alpha) / Math.pow(aw, 1 - alpha) : 1;
    s[k] = Number.isFinite(v) && v > 0 ? v : 1;
  }
  return s;
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

  let denseIndex = 0;
  // The layers as computed so far (quantised kernels dequantised): the calibration inputs of the next layer.
  const done: PolicyLayer[] = [];
  let layerIndex = 0;
  const dense = (h: string, kernel: Float32Array, bias: Float32Array | null, inDim: number, outDim: number, base: string): string => {
    const index = denseIndex++;
    if (!int8 || (opts.quantize && !opts.quantize(index, inDim, outDim))) {
      const w = g.init(`${base}.kernel`, [inDim, outDim], DataType.FLOAT, kernel);
      const inputs = [h, w];
      if (bias) inputs.push(g.init(`${base}.bias`, [outDim], DataType.FLOAT, bias));
      return g.one("Gemm", inputs, { base });
    }
    const cal = opts.calibration;
    let input = h;
    let q: Int8Array;
    let scale: Float32Array;
    // Per-input-channel smoothing s (exact: (x / s) · (s ⊙ W) = x · W), from the calibration inputs.
    let smooth: Float32Array | null = null;
    if (cal) {
      const x = policyQValues({ ...policy, layers: done.slice(0, layerIndex) }, cal.obs, cal.n);
      let w = kernel;
      if (opts.smooth !== undefined && opts.smooth > 0 && index > 0) {
        smooth = smoothingScales(x, cal.n, kernel, inDim, outDim, opts.smooth);
        w = kernel.map((v, i) => v * smooth![Math.floor(i / outDim)]!);
        for (let i = 0; i < x.length; i++) x[i] = x[i]! / smooth[i % inDim]!;
        input = g.one("Mul", [h, g.init(`${base}.input_smoothing`, [inDim], DataType.FLOAT, smooth.map((v) => 1 / v))], { base: `${base}.smooth` });
      }
      ({ q, scale } = quantizeColumnsCalibrated(w, inDim, outDim, x, cal.n));
    } else {
      ({ q, scale } = quantizeColumns(kernel, inDim, outDim));
    }
    const l = policy.layers[layerIndex]!;
    if (l.kind === "dense") done[layerIndex] = { ...l, kernel: Float32Array.from(q, (v, i) => (v * scale[i % outDim]!) / (smooth ? smooth[Math.floor(i / outDim)]! : 1)) };
    const w = g.init(`${base}.kernel_int8`, [inDim, outDim], DataType.INT8, q);
    const wScale = g.init(`${base}.kernel_scale`, [outDim], DataType.FLOAT, scale);
    const wZero = g.init(`${base}.kernel_zero_point`, [outDim], DataType.INT8, new Int8Array(outDim));
    const [xq, xScale, xZero] = g.node("DynamicQuantizeLinear", [input], { outs: 3, base: `${base}.input_quant` });
    const acc = g.one("MatMulInteger", [xq!, w, xZero!, wZero], { base: `${base}.matmul_int` });
    const accF = g.one("Cast", [acc], { attrs: { to: DataType.FLOAT }, base: `${base}.matmul_float` });
    const s = g.one("Mul", [xScale!, wScale], { base: `${base}.scale` });
    const y = g.one("Mul", [accF, s], { base: `${base}.dequant` });
    return bias ? g.one("Add", [y, g.init(`${base}.bias`, [outDim], DataType.FLOAT, bias)], { base }) : y;
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

  policy.layers.forEach((l: PolicyLayer, i) => {
    const base = `layer${i}`;
    layerIndex = i;
    done[i] = l;
    if (l.kind === "dense") {
      x = activate(dense(x, l.kernel, l.bias, l.inDim, l.outDim, `${base}.dense`), l.activation, base);
    } else if (l.kind === "layerNorm") {
      const gamma = g.init(`${base}.gamma`, [l.dim], DataType.FLOAT, l.gamma);
      const beta = g.init(`${base}.beta`, [l.dim], DataType.FLOAT, l.beta);
      x = activate(g.one("LayerNormalization", [x, gamma, beta], { attrs: { axis: -1, epsilon: { float: l.eps } }, base: `${base}.layer_norm` }), l.activation, base);
    } else {
      // One product for the value and advantage heads ([in, 1 + actions]), split after: with int8, one
      // DynamicQuantizeLinear feeds one MatMulInteger, as ONNX Runtime's fusion requires.
      const A = l.actions;
      const kernel = new Float32Array(l.inDim * (1 + A));
      for (let k = 0; k < l.inDim; k++) {
        kernel[k * (1 + A)] = l.value.kernel[k]!;
        kernel.set(l.advantage.kernel.subarray(k * A, (k + 1) * A), k * (1 + A) + 1);
      }
      const bias = new Float32Array(1 + A);
      bias[0] = l.value.bias[0]!;
      bias.set(l.advantage.bias, 1);
      const va = dense(x, kernel, bias, l.inDim, 1 + A, `${base}.value_advantage`);
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
      `q_values [batch, ${policy.actions}] float32 and action [batch] int64 (argmax); ${int8 ? "dense weights int8 per output column, activations quantised dynamically" : "float32 weights"}.`,
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
