/**
 * Weight I/O for parameters and optimiser state, plus target-network helpers.
 *
 * File format `qttdm-weights` version 1 (all integers little-endian):
 *   bytes 0..7    magic "QTTDMW01"
 *   bytes 8..11   uint32 header length H (bytes of UTF-8 JSON)
 *   bytes 12..15  int32 CRC-32 of the header bytes
 *   bytes 16..    header JSON: { format: "qttdm-weights", version: 1, meta: {...},
 *                   dataCrc32: int32 CRC-32 of the data section,
 *                   tensors: [{ name, dtype: "float32", shape: number[], offset, length }] }
 *                 (offset/length in bytes, relative to the data section)
 *   then zero padding to a multiple of 4, then the data section: raw float32 values, row-major.
 * Tensor names: `params/<parameter name>` for parameters, `optim/<state name>` for optimiser state.
 */
import * as tf from "@tensorflow/tfjs";
import CRC32 from "crc-32";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { FileFormatError, QttdmError, show } from "../core/errors.js";
import { Module, type ParamMap } from "./module.js";
import type { Adam } from "./optim.js";

const MAGIC = "QTTDMW01";
export const WEIGHTS_FORMAT_VERSION = 1;

/** A decoded tensor: shape and float32 values. */
export interface WeightArray {
  shape: number[];
  data: Float32Array;
}

interface HeaderEntry {
  name: string;
  dtype: "float32";
  shape: number[];
  offset: number;
  length: number;
}
interface Header {
  format: "qttdm-weights";
  version: number;
  meta: Record<string, unknown>;
  dataCrc32: number;
  tensors: HeaderEntry[];
}

function asParams(p: ParamMap | Module): ParamMap {
  return p instanceof Module ? p.params() : p;
}

/**
 * Serialise named float32 arrays into the binary format above.
 * @param meta free-form JSON stored in the header (e.g. step, config hash)
 */
export function encodeArrays(arrays: Map<string, WeightArray>, meta: Record<string, unknown> = {}): Uint8Array {
  const tensors: HeaderEntry[] = [];
  let offset = 0;
  for (const [name, a] of arrays) {
    const size = a.shape.reduce((x, y) => x * y, 1);
    if (size !== a.data.length) throw new QttdmError(`weights: ${show(name)} has shape [${a.shape.join(", ")}] but ${a.data.length} values`);
    tensors.push({ name, dtype: "float32", shape: a.shape, offset, length: a.data.byteLength });
    offset += a.data.byteLength;
  }
  const data = new Uint8Array(offset);
  let i = 0;
  for (const a of arrays.values()) {
    data.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), tensors[i]!.offset);
    i++;
  }
  const header: Header = { format: "qttdm-weights", version: WEIGHTS_FORMAT_VERSION, meta, dataCrc32: CRC32.buf(data), tensors };
  const hbytes = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = align4(16 + hbytes.length);
  const out = new Uint8Array(dataStart + data.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, hbytes.length, true);
  dv.setInt32(12, CRC32.buf(hbytes), true);
  out.set(hbytes, 16);
  out.set(data, dataStart);
  return out;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/**
 * Parse bytes written by `encodeArrays`, verifying magic, version and both checksums.
 * @param source a label for error messages (file path or "buffer")
 * @throws FileFormatError naming the source and what is wrong
 */
export function decodeArrays(bytes: Uint8Array, source = "buffer"): { arrays: Map<string, WeightArray>; meta: Record<string, unknown> } {
  const fail = (what: string) => new FileFormatError(`weights ${source}: ${what}`);
  if (bytes.length < 16 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw fail(`not a qttdm weights file (expected magic ${MAGIC})`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = dv.getUint32(8, true);
  if (16 + hlen > bytes.length) throw fail(`truncated header (${hlen} bytes declared, ${bytes.length - 16} present)`);
  const hbytes = bytes.subarray(16, 16 + hlen);
  if (CRC32.buf(hbytes) !== dv.getInt32(12, true)) throw fail("header checksum mismatch (file corrupt)");
  const header = JSON.parse(new TextDecoder().decode(hbytes)) as Header;
  if (header.format !== "qttdm-weights") throw fail(`format ${show(header.format)}, expected "qttdm-weights"`);
  if (header.version !== WEIGHTS_FORMAT_VERSION) throw fail(`format version ${show(header.version)}, this build reads version ${WEIGHTS_FORMAT_VERSION}`);
  const dataStart = align4(16 + hlen);
  const data = bytes.subarray(dataStart);
  const total = header.tensors.reduce((s, t) => Math.max(s, t.offset + t.length), 0);
  if (data.length < total) throw fail(`truncated data (${total} bytes declared, ${data.length} present)`);
  if (CRC32.buf(data.subarray(0, total)) !== header.dataCrc32) throw fail("data checksum mismatch (file corrupt)");
  const arrays = new Map<string, WeightArray>();
  for (const t of header.tensors) {
    if (t.dtype !== "float32") throw fail(`tensor ${show(t.name)} has dtype ${show(t.dtype)}, expected "float32"`);
    // Copy so the result is 4-byte aligned and independent of the input buffer.
    const copy = new Uint8Array(t.length);
    copy.set(data.subarray(t.offset, t.offset + t.length));
    arrays.set(t.name, { shape: t.shape, data: new Float32Array(copy.buffer) });
  }
  return { arrays, meta: header.meta ?? {} };
}

/** Non-finite values of a weights blob: their count and the first tensor holding one (null when all are finite). */
export function nonFiniteValues(bytes: Uint8Array, source = "buffer"): { count: number; first: string | null } {
  let count = 0;
  let first: string | null = null;
  for (const [name, a] of decodeArrays(bytes, source).arrays) {
    for (let i = 0; i < a.data.length; i++) {
      if (!Number.isFinite(a.data[i]!)) {
        count++;
        first ??= name;
      }
    }
  }
  return { count, first };
}

/** Read parameters (and optimiser state) into named arrays with the `params/` and `optim/` prefixes. */
function collect(params: ParamMap, opt?: Adam): Map<string, WeightArray> {
  const out = new Map<string, WeightArray>();
  for (const [n, v] of params) out.set(`params/${n}`, { shape: v.shape, data: v.dataSync() as Float32Array });
  if (opt) {
    const st = opt.stateTensors();
    for (const [n, t] of st) out.set(`optim/${n}`, { shape: t.shape, data: t.dataSync() as Float32Array });
    tf.dispose([...st.values()]);
  }
  return out;
}

/**
 * Serialise parameters (and, if given, the optimiser's state) to bytes.
 * @param meta free-form JSON kept in the header
 */
export function saveWeights(params: ParamMap | Module, opt?: Adam, meta: Record<string, unknown> = {}): Uint8Array {
  return encodeArrays(collect(asParams(params), opt), meta);
}

/**
 * Load bytes from `saveWeights` into existing parameters (and optimiser). Everything is validated before any
 * value changes: missing and unexpected names and every shape mismatch are listed in one FileFormatError.
 * @returns the header's meta
 */
export function loadWeights(bytes: Uint8Array, params: ParamMap | Module, opt?: Adam, source = "buffer"): Record<string, unknown> {
  const { arrays, meta } = decodeArrays(bytes, source);
  const p = asParams(params);
  const expected = new Map<string, number[]>();
  for (const [n, v] of p) expected.set(`params/${n}`, v.shape);
  if (opt) for (const [n, s] of opt.stateShapes()) expected.set(`optim/${n}`, s);
  const problems: string[] = [];
  const missing = [...expected.keys()].filter((n) => !arrays.has(n));
  const present = new Set(expected.keys());
  // Optimiser state in the file is ignored (not "extra") when no optimiser is being loaded.
  const extra = [...arrays.keys()].filter((n) => !present.has(n) && !(opt === undefined && n.startsWith("optim/")));
  if (missing.length) problems.push(`missing ${missing.join(", ")}`);
  if (extra.length) problems.push(`unexpected ${extra.join(", ")}`);
  for (const [n, shape] of expected) {
    const a = arrays.get(n);
    if (a && !sameShape(a.shape, shape)) problems.push(`${n}: file has shape [${a.shape.join(", ")}], model expects [${shape.join(", ")}]`);
  }
  if (problems.length) throw new FileFormatError(`weights ${source} do not match the model: ${problems.join("; ")}`);
  tf.tidy(() => {
    for (const [n, v] of p) {
      const a = arrays.get(`params/${n}`)!;
      v.assign(tf.tensor(a.data, a.shape, "float32"));
    }
  });
  if (opt) {
    const st = new Map<string, tf.Tensor>();
    for (const [n, a] of arrays) if (n.startsWith("optim/")) st.set(n.slice("optim/".length), tf.tensor(a.data, a.shape, "float32"));
    try {
      opt.loadStateTensors(st);
    } finally {
      tf.dispose([...st.values()]);
    }
  }
  return meta;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Write bytes atomically: to a temporary file in the same directory, then rename over `file`. */
export async function writeFileAtomic(file: string, bytes: Uint8Array): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    await fsp.writeFile(tmp, bytes);
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

/** `saveWeights` to a file, atomically (temp + rename). */
export async function saveWeightsFile(file: string, params: ParamMap | Module, opt?: Adam, meta: Record<string, unknown> = {}): Promise<void> {
  await writeFileAtomic(file, saveWeights(params, opt, meta));
}

/** `loadWeights` from a file. @returns the header's meta */
export async function loadWeightsFile(file: string, params: ParamMap | Module, opt?: Adam): Promise<Record<string, unknown>> {
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(file);
  } catch (e) {
    throw new FileFormatError(`weights ${file}: cannot read (${(e as Error).message})`);
  }
  return loadWeights(bytes, params, opt, file);
}

function pairUp(src: ParamMap, dst: ParamMap, what: string): [tf.Variable, tf.Variable][] {
  const problems: string[] = [];
  const pairs: [tf.Variable, tf.Variable][] = [];
  for (const [n, d] of dst) {
    const s = src.get(n);
    if (!s) problems.push(`missing in source: ${n}`);
    else if (!sameShape(s.shape, d.shape)) problems.push(`${n}: source [${s.shape.join(", ")}] vs destination [${d.shape.join(", ")}]`);
    else pairs.push([s, d]);
  }
  for (const n of src.keys()) if (!dst.has(n)) problems.push(`missing in destination: ${n}`);
  if (problems.length) throw new QttdmError(`${what}: parameter sets differ: ${problems.join("; ")}`);
  return pairs;
}

/** Hard copy dst ← src, matched by parameter name (e.g. online → target network). */
export function copyWeights(src: ParamMap | Module, dst: ParamMap | Module): void {
  const pairs = pairUp(asParams(src), asParams(dst), "copyWeights");
  tf.tidy(() => {
    for (const [s, d] of pairs) d.assign(tf.clone(s));
  });
}

/** Polyak averaging dst ← τ·src + (1−τ)·dst, matched by name. @param tau in [0, 1] */
export function polyakUpdate(src: ParamMap | Module, dst: ParamMap | Module, tau: number): void {
  if (!(tau >= 0 && tau <= 1)) throw new QttdmError(`polyakUpdate: tau ${show(tau)} is not in [0, 1]`);
  const pairs = pairUp(asParams(src), asParams(dst), "polyakUpdate");
  tf.tidy(() => {
    for (const [s, d] of pairs) d.assign(tf.add(d, tf.mul(tf.sub(s, d), tau)));
  });
}
