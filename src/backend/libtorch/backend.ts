/**
 * A tfjs `KernelBackend` named `libtorch`: tensors are ATen tensors held by the native addon, and every kernel
 * is one call into it, modelled on tfjs-node's backend (one generic `execute(op, inputs, attrs)` dispatching into
 * a table of torch ops). All model code stays tfjs, so tapes, `tf.customGrad` and the hand-written gradients in
 * `nets/ops.ts` work unchanged.
 *
 * Memory: `disposeData` frees the ATen tensor at once. Tensors kept alive until the garbage collector runs
 * made matmuls ~3× slower in a spike (the allocator cannot reuse their memory), so nothing here waits for GC.
 */
import * as tf from "@tensorflow/tfjs";
import { QttdmError } from "../../core/errors.js";
import type { LibtorchAddon } from "./addon.js";

type DataId = object;
type DType = "float32" | "int32" | "bool";
type Attrs = Record<string, unknown>;
type Inputs = Record<string, tf.TensorInfo | undefined>;

interface Entry {
  slot: number;
  refCount: number;
  shape: number[];
  dtype: DType;
}

const DTYPE_CODES: Record<string, number> = { float32: 0, int32: 1, bool: 2 };
const DTYPES: DType[] = ["float32", "int32", "bool"];
const FUSED_ACTIVATIONS = ["linear", "relu", "relu6", "prelu", "leakyrelu", "elu", "sigmoid"];
const ACTIVATION_GRADS = ["relu", "leaky_relu", "tanh", "gelu"];
const BLOCK_ACTIVATIONS = ["linear", "relu", "leaky_relu", "gelu", "tanh"];

function dtypeCode(dtype: string, where: string): number {
  const c = DTYPE_CODES[dtype];
  if (c === undefined) throw new QttdmError(`libtorch backend: ${where}: dtype ${dtype} is not supported (float32, int32, bool)`);
  return c;
}

/** An axis attribute (a number, a list, or null for every axis) as non-negative axes of `shape`. */
function axes(a: unknown, shape: number[]): number[] {
  return tf.util.parseAxisParam((a ?? null) as number[], shape);
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * How a kernel's inputs and attributes are written into the shared buffers. `inputs` names the inputs in the
 * order the addon reads them ("*" = all, in order, for list kernels); optional names are skipped when absent.
 * `encode` writes integer attributes with `int`/`list` and floating-point ones into `nums`.
 */
interface KernelSpec {
  inputs: readonly string[] | "*";
  encode?: (w: ArgWriter, attrs: Attrs, inputs: tf.TensorInfo[], named: Inputs) => void;
  /** The kernel returns a list of tensors. */
  multi?: boolean;
}

/** Writes integer attributes after the input slots in the shared int buffer. */
class ArgWriter {
  private pos = 0;
  private countAt = 0;
  constructor(readonly ints: Int32Array, readonly nums: Float64Array) {}

  begin(slots: readonly number[]): void {
    this.ints[0] = slots.length;
    for (let i = 0; i < slots.length; i++) this.ints[1 + i] = slots[i]!;
    this.countAt = 1 + slots.length;
    this.ints[this.countAt] = 0;
    this.pos = this.countAt + 1;
  }
  int(v: number | boolean): void {
    this.ints[this.pos++] = Number(v);
    this.ints[this.countAt]!++;
  }
  /** A length-prefixed list. */
  list(vs: readonly number[]): void {
    this.int(vs.length);
    for (const v of vs) this.int(v);
  }
}

const unary: KernelSpec = { inputs: ["x"] };
const binary: KernelSpec = { inputs: ["a", "b"] };
const reduction: KernelSpec = {
  inputs: ["x"],
  encode: (w, a, [x]) => {
    w.int(Boolean(a.keepDims));
    // Max names its axes `reductionIndices`; the other reductions `axis`.
    w.list(axes(a.reductionIndices ?? a.axis, x!.shape));
  },
};
const alpha: KernelSpec = { inputs: ["x"], encode: (w, a) => (w.nums[0] = a.alpha as number) };
/** QttdmAttention and its gradient (nets/fused.ts AttentionAttrs). */
const encodeAttention = (w: ArgWriter, a: Attrs): void => {
  for (const k of ["b", "t", "heads"]) w.int(a[k] as number);
  w.nums[0] = a.scale as number;
};

/** Kernel name → how to call it. The addon's `opNames()` says which of these a build implements. */
const KERNELS: Record<string, KernelSpec> = {
  ...Object.fromEntries(
    ["Add", "Sub", "Multiply", "RealDiv", "FloorDiv", "Mod", "Maximum", "Minimum", "Pow", "SquaredDifference", "Atan2",
      "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd", "LogicalOr"].map((k) => [k, binary]),
  ),
  ...Object.fromEntries(
    ["Abs", "Neg", "Exp", "Expm1", "Log", "Log1p", "Sqrt", "Rsqrt", "Square", "Reciprocal", "Tanh", "Sigmoid", "Relu",
      "Relu6", "Elu", "Selu", "Softplus", "Erf", "Sign", "Floor", "Ceil", "Round", "Sin", "Cos", "IsNan", "IsInf",
      "IsFinite", "LogicalNot", "Identity", "ZerosLike", "OnesLike"].map((k) => [k, unary]),
  ),
  ...Object.fromEntries(["Sum", "Mean", "Max", "Min", "Prod", "All", "Any"].map((k) => [k, reduction])),
  Step: alpha,
  LeakyRelu: alpha,
  Prelu: { inputs: ["x", "alpha"] },
  ClipByValue: {
    inputs: ["x"],
    encode: (w, a) => {
      w.nums[0] = a.clipValueMin as number;
      w.nums[1] = a.clipValueMax as number;
    },
  },
  Cast: { inputs: ["x"], encode: (w, a) => w.int(dtypeCode(a.dtype as string, "Cast")) },
  Reshape: { inputs: ["x"], encode: (w, a) => w.list(a.shape as number[]) },
  Transpose: { inputs: ["x"], encode: (w, a) => w.list(a.perm as number[]) },
  ArgMax: { inputs: ["x"], encode: (w, a, [x]) => w.int(axes(a.axis, x!.shape)[0]!) },
  ArgMin: { inputs: ["x"], encode: (w, a, [x]) => w.int(axes(a.axis, x!.shape)[0]!) },
  Softmax: { inputs: ["logits"], encode: (w, a) => w.int(a.dim as number) },
  BatchMatMul: {
    inputs: ["a", "b"],
    encode: (w, a) => {
      w.int(Boolean(a.transposeA));
      w.int(Boolean(a.transposeB));
    },
  },
  _FusedMatMul: {
    inputs: ["a", "b", "bias", "preluActivationWeights"],
    encode: (w, a, _, named) => {
      const act = FUSED_ACTIVATIONS.indexOf((a.activation as string | undefined) ?? "linear");
      if (act < 0) throw new QttdmError(`libtorch backend: _FusedMatMul: activation ${String(a.activation)} is not supported`);
      w.int(Boolean(a.transposeA));
      w.int(Boolean(a.transposeB));
      w.int(act);
      w.int(named.bias !== undefined);
      w.int(named.preluActivationWeights !== undefined);
      w.nums[0] = (a.leakyreluAlpha as number | undefined) ?? 0.2;
    },
  },
  Slice: {
    inputs: ["x"],
    encode: (w, a, [x]) => {
      const [begin, size] = tf.slice_util.parseSliceParams(x!, a.begin as number[], a.size as number[]);
      w.int(x!.shape.length);
      for (const b of begin!) w.int(b);
      for (const s of size!) w.int(s);
    },
  },
  StridedSlice: {
    inputs: ["x"],
    encode: (w, a, [x]) => {
      const info = tf.slice_util.sliceInfo(x!.shape, a.begin as number[], a.end as number[], a.strides as number[],
        a.beginMask as number, a.endMask as number, a.ellipsisMask as number, a.newAxisMask as number, a.shrinkAxisMask as number);
      if (info.strides.some((s) => s <= 0)) throw new QttdmError("libtorch backend: StridedSlice with non-positive strides is not supported");
      w.int(x!.shape.length);
      for (const v of [...info.begin, ...info.end, ...info.strides]) w.int(v);
    },
  },
  Concat: { inputs: "*", encode: (w, a, ins) => w.int(axes(a.axis, ins[0]!.shape)[0]!) },
  Pack: { inputs: "*", encode: (w, a) => w.int(a.axis as number) },
  AddN: { inputs: "*" },
  Unpack: { inputs: ["value"], multi: true, encode: (w, a) => w.int(a.axis as number) },
  SplitV: {
    inputs: ["x"],
    multi: true,
    encode: (w, a, [x]) => {
      const axis = axes(a.axis, x!.shape)[0]!;
      w.int(axis);
      w.list(tf.backend_util.prepareSplitSize(x!, a.numOrSizeSplits as number[] | number, axis));
    },
  },
  Tile: { inputs: ["x"], encode: (w, a) => w.list(a.reps as number[]) },
  PadV2: {
    inputs: ["x"],
    encode: (w, a) => {
      const p = a.paddings as [number, number][];
      w.int(p.length);
      for (const [b, e] of p) {
        w.int(b);
        w.int(e);
      }
      w.nums[0] = a.constantValue as number;
    },
  },
  Reverse: { inputs: ["x"], encode: (w, a, [x]) => w.list(axes(a.dims, x!.shape)) },
  GatherV2: {
    inputs: ["x", "indices"],
    encode: (w, a) => {
      w.int(a.axis as number);
      w.int((a.batchDims as number | undefined) ?? 0);
    },
  },
  OneHot: {
    inputs: ["indices"],
    encode: (w, a) => {
      w.int(a.depth as number);
      w.int(dtypeCode((a.dtype as string | undefined) ?? "int32", "OneHot"));
      w.nums[0] = a.onValue as number;
      w.nums[1] = a.offValue as number;
    },
  },
  Fill: {
    inputs: [],
    encode: (w, a) => {
      w.int(dtypeCode((a.dtype as string | undefined) ?? "float32", "Fill"));
      w.list(a.shape as number[]);
      w.nums[0] = a.value as number;
    },
  },
  Range: {
    inputs: [],
    encode: (w, a) => {
      w.int(dtypeCode((a.dtype as string | undefined) ?? "float32", "Range"));
      w.nums[0] = a.start as number;
      w.nums[1] = a.stop as number;
      w.nums[2] = a.step as number;
    },
  },
  Select: { inputs: ["condition", "t", "e"] },
  // qttdm's fused kernels (src/nets/fused.ts declares their inputs, attributes and outputs).
  QttdmLayerNorm: { inputs: ["x", "gamma", "beta"], multi: true, encode: (w, a) => (w.nums[0] = a.eps as number) },
  QttdmLayerNormGrad: { inputs: ["dy", "x", "mean", "rstd", "gamma"], multi: true },
  QttdmActivationGrad: {
    inputs: ["dy", "y"],
    encode: (w, a) => {
      w.int(ACTIVATION_GRADS.indexOf(a.activation as string));
      w.nums[0] = (a.slope as number | undefined) ?? 0;
    },
  },
  QttdmGelu: { inputs: ["x"] },
  QttdmCachedBlock: {
    inputs: "*",
    multi: true,
    encode: (w, a) => {
      for (const k of ["b", "n", "heads"]) w.int(a[k] as number);
      w.int(BLOCK_ACTIVATIONS.indexOf(a.activation as string));
      w.int(a.cached ? 1 : 0);
      [a.eps, a.scale, a.slope].forEach((v, i) => (w.nums[i] = v as number));
    },
  },
  QttdmAttention: { inputs: ["q", "k", "v"], multi: true, encode: encodeAttention },
  QttdmAttentionGrad: { inputs: ["dy", "q", "k", "v", "probs"], multi: true, encode: encodeAttention },
  QttdmAdam: {
    inputs: "*",
    multi: true,
    encode: (w, a) => {
      const groups = a.groups as { size: number; lr: number; decay: number; l2: number }[];
      w.int(groups.length);
      for (const g of groups) w.int(g.size);
      const head = [a.beta1, a.beta2, a.bc1, a.invSqrtBc2, a.eps, a.clipNorm ?? -1] as number[];
      head.forEach((v, i) => (w.nums[i] = v));
      groups.forEach((g, i) => {
        w.nums[6 + 3 * i] = g.lr;
        w.nums[7 + 3 * i] = g.decay;
        w.nums[8 + 3 * i] = g.l2;
      });
    },
  },
  Cumsum: {
    inputs: ["x"],
    encode: (w, a, [x]) => {
      w.int(axes(a.axis, x!.shape)[0]!);
      w.int(Boolean(a.exclusive));
      w.int(Boolean(a.reverse));
    },
  },
};

export class LibtorchBackend extends tf.KernelBackend {
  private readonly data = new Map<DataId, Entry>();
  private readonly ints = new Int32Array(1 << 16);
  private readonly nums = new Float64Array(1024);
  private readonly writer = new ArgWriter(this.ints, this.nums);
  private readonly slots: number[] = [];

  constructor(readonly addon: LibtorchAddon) {
    super();
    addon.init(this.ints, this.nums);
  }

  private entry(dataId: DataId): Entry {
    let e = this.data.get(dataId);
    if (e === undefined) {
      // A tensor created on another backend: the engine copies it over through `move`.
      tf.engine().moveData(this, dataId);
      e = this.data.get(dataId);
      if (e === undefined) throw new QttdmError("libtorch backend: a tensor's data is unknown to this backend");
    }
    return e;
  }

  override refCount(dataId: DataId): number {
    return this.data.get(dataId)?.refCount ?? 0;
  }

  override incRef(dataId: DataId): void {
    const e = this.data.get(dataId);
    if (e) e.refCount++;
  }

  override timerAvailable(): boolean {
    return true;
  }

  // Kernels run synchronously on the CPU, so wall-clock time around them is their time.
  override async time(f: () => void): Promise<tf.BackendTimingInfo> {
    const t0 = performance.now();
    f();
    return { kernelMs: performance.now() - t0 };
  }

  private upload(values: tf.backend_util.BackendValues, shape: number[], dtype: string): number {
    const code = dtypeCode(dtype, "write");
    this.ints[0] = shape.length;
    for (let i = 0; i < shape.length; i++) this.ints[1 + i] = shape[i]!;
    return this.addon.upload(values as Float32Array | Int32Array | Uint8Array, code);
  }

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): DataId {
    const dataId = {};
    this.data.set(dataId, { slot: this.upload(values, shape, dtype), refCount: 1, shape, dtype: dtype as DType });
    return dataId;
  }

  override move(dataId: DataId, values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    this.data.set(dataId, { slot: this.upload(values, shape, dtype), refCount, shape, dtype: dtype as DType });
  }

  override readSync(dataId: DataId): tf.backend_util.BackendValues {
    const e = this.entry(dataId);
    const n = sizeOf(e.shape);
    const out = e.dtype === "float32" ? new Float32Array(n) : e.dtype === "int32" ? new Int32Array(n) : new Uint8Array(n);
    this.addon.download(e.slot, out);
    return out;
  }

  override async read(dataId: DataId): Promise<tf.backend_util.BackendValues> {
    return this.readSync(dataId);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const e = this.data.get(dataId);
    if (e === undefined) return true;
    e.refCount--;
    if (!force && e.refCount > 0) return false;
    this.addon.release(e.slot);
    this.data.delete(dataId);
    return true;
  }

  override numDataIds(): number {
    return this.data.size;
  }

  /** `numBytesInLibtorch`: bytes held by live ATen tensors (views of one storage count separately). */
  override memory(): { unreliable: boolean; numBytesInLibtorch: number; numTensorsInLibtorch: number } {
    const [tensors, bytes] = this.addon.memory();
    return { unreliable: false, numBytesInLibtorch: bytes, numTensorsInLibtorch: tensors };
  }

  override floatPrecision(): 32 {
    return 32;
  }

  override epsilon(): number {
    return 1e-7;
  }

  override dispose(): void {
    for (const e of this.data.values()) this.addon.release(e.slot);
    this.data.clear();
  }

  /** Runs kernel `name` (op code `op`) and wraps its outputs as TensorInfos. */
  execute(name: string, op: number, spec: KernelSpec, inputs: Inputs, attrs: Attrs): tf.TensorInfo | tf.TensorInfo[] {
    const ins: tf.TensorInfo[] = [];
    if (spec.inputs === "*") {
      for (const t of Object.values(inputs)) if (t) ins.push(t);
    } else {
      for (const k of spec.inputs) {
        const t = inputs[k];
        if (t) ins.push(t);
      }
    }
    const slots = this.slots;
    slots.length = 0;
    for (const t of ins) slots.push(this.entry(t.dataId).slot);
    this.writer.begin(slots);
    spec.encode?.(this.writer, attrs, ins, inputs);
    try {
      this.addon.exec(op);
    } catch (e) {
      throw new QttdmError(`libtorch backend: kernel ${name} failed on inputs ${ins.map((t) => `${t.dtype}[${t.shape.join(",")}]`).join(", ")}: ${(e as Error).message}`);
    }
    const ints = this.ints;
    const n = ints[0]!;
    const outs: tf.TensorInfo[] = new Array(n);
    let k = 1;
    for (let i = 0; i < n; i++) {
      const slot = ints[k++]!;
      const dtype = DTYPES[ints[k++]!]!;
      const rank = ints[k++]!;
      const shape = Array.from(ints.subarray(k, k + rank));
      k += rank;
      const dataId = {};
      this.data.set(dataId, { slot, refCount: 1, shape, dtype });
      outs[i] = { dataId, shape, dtype };
    }
    return spec.multi ? outs : outs[0]!;
  }
}

/** The kernel names this module can encode (the addon's build may implement fewer). */
export const ENCODED_KERNELS: readonly string[] = Object.keys(KERNELS);

let registered = false;

/**
 * Register the `libtorch` backend and its kernels with tfjs (once per process).
 * @returns the kernel names registered
 */
export function registerLibtorch(addon: LibtorchAddon): string[] {
  const names = addon.opNames();
  const usable = names.filter((n) => KERNELS[n] !== undefined);
  if (registered) return usable;
  // Priority below wasm and cpu: the backend is used only when chosen.
  tf.registerBackend("libtorch", () => new LibtorchBackend(addon), -1);
  for (const name of usable) {
    const op = names.indexOf(name);
    const spec = KERNELS[name]!;
    if (name === "Identity") {
      // Tensors are immutable, so a copy can share the data (the engine clones every tensor a gradient saves;
      // the cpu and qttdm's wasm Identity share too).
      tf.registerKernel({
        kernelName: name,
        backendName: "libtorch",
        kernelFunc: ({ inputs, backend }) => {
          const x = (inputs as unknown as Inputs).x!;
          (backend as LibtorchBackend).incRef(x.dataId);
          return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
        },
      });
      continue;
    }
    tf.registerKernel({
      kernelName: name,
      backendName: "libtorch",
      kernelFunc: ({ inputs, attrs, backend }) =>
        (backend as LibtorchBackend).execute(name, op, spec, inputs as unknown as Inputs, attrs as unknown as Attrs),
    });
  }
  // ExpandDims is a Reshape with an axis of size 1 inserted: the addon's Reshape does it.
  const reshape = names.indexOf("Reshape");
  if (reshape >= 0) {
    tf.registerKernel({
      kernelName: "ExpandDims",
      backendName: "libtorch",
      kernelFunc: ({ inputs, attrs, backend }) => {
        const x = (inputs as unknown as Inputs).input!;
        const dim = (attrs as unknown as { dim: number }).dim;
        const shape = [...x.shape];
        shape.splice(dim < 0 ? shape.length + 1 + dim : dim, 0, 1);
        return (backend as LibtorchBackend).execute("Reshape", reshape, KERNELS.Reshape!, { x }, { shape });
      },
    });
  }
  registered = true;
  return usable;
}
