/**
 * Versioned binary container for snapshots of large typed-array state (the replay buffer).
 *
 * Layout (little-endian):
 *   0   8 bytes  magic "QTTDMSNP"
 *   8   u32      format version (1)
 *   12  u32      header length H in bytes
 *   16  f64      total file length in bytes (so truncation is named as such)
 *   24  H bytes  header JSON: { kind, ...caller fields, sections: [{ name, dtype, length, offset }] }
 *   ... sections from the first 8-byte boundary after the header, each 8-aligned (offsets in the
 *       header are relative to that data area; zero padding between)
 *   end 32 bytes SHA-256 of every byte before it
 * Files are written to a temporary name in the same directory, fsynced, then renamed, so a crash
 * never leaves a half-written snapshot under the real name.
 */
import { createHash } from "node:crypto";
import { open, readFile, rename, unlink } from "node:fs/promises";
import { FileFormatError } from "../core/errors.js";

export type SnapshotArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;

const MAGIC = "QTTDMSNP";
const VERSION = 1;
const PREFIX = 24;
const DIGEST = 32;

const DTYPES = {
  f32: Float32Array,
  f64: Float64Array,
  i32: Int32Array,
  u32: Uint32Array,
  u16: Uint16Array,
  u8: Uint8Array,
} as const;
type DType = keyof typeof DTYPES;

function dtypeOf(a: SnapshotArray): DType {
  for (const [k, ctor] of Object.entries(DTYPES)) if (a.constructor === ctor) return k as DType;
  throw new TypeError(`snapshot: unsupported array type ${a.constructor.name}`);
}

interface SectionEntry {
  name: string;
  dtype: DType;
  length: number;
  offset: number;
}

const pad8 = (n: number) => (n + 7) & ~7;
let tmpCounter = 0;

/** Write `header` (JSON-serialisable) and named arrays to `path` atomically. */
export async function writeSnapshot(
  path: string,
  kind: string,
  header: Record<string, unknown>,
  sections: Record<string, SnapshotArray>,
): Promise<void> {
  // Section offsets are relative to the data area, which starts after the header (8-aligned).
  let rel = 0;
  const entries: SectionEntry[] = Object.entries(sections).map(([name, a]) => {
    const e = { name, dtype: dtypeOf(a), length: a.length, offset: rel };
    rel = pad8(rel + a.byteLength);
    return e;
  });
  const headerBytes = Buffer.from(JSON.stringify({ kind, ...header, sections: entries }), "utf8");
  const dataStart = pad8(PREFIX + headerBytes.length);
  const end = dataStart + rel;
  const total = end + DIGEST;

  const prefix = Buffer.alloc(PREFIX);
  prefix.write(MAGIC, 0, "latin1");
  prefix.writeUInt32LE(VERSION, 8);
  prefix.writeUInt32LE(headerBytes.length, 12);
  prefix.writeDoubleLE(total, 16);

  const tmp = `${path}.tmp-${process.pid}-${++tmpCounter}`;
  const fh = await open(tmp, "w");
  const hash = createHash("sha256");
  let written = 0;
  const put = async (chunk: Uint8Array) => {
    hash.update(chunk);
    await fh.write(chunk);
    written += chunk.length;
  };
  const zeros = Buffer.alloc(8);
  const padTo = async (pos: number) => {
    if (pos > written) await put(zeros.subarray(0, pos - written));
  };
  try {
    await put(prefix);
    await put(headerBytes);
    for (const e of entries) {
      await padTo(dataStart + e.offset);
      const a = sections[e.name]!;
      await put(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    }
    await padTo(end);
    await fh.write(hash.digest());
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

export interface Snapshot {
  header: Record<string, unknown>;
  sections: Map<string, SnapshotArray>;
}

/** Read and verify a snapshot of `kind`; throws FileFormatError naming the file and the problem. */
export async function readSnapshot(path: string, kind: string): Promise<Snapshot> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new FileFormatError(`cannot read snapshot ${path}: ${(err as Error).message}`);
  }
  const fail = (what: string): never => {
    throw new FileFormatError(`${kind} snapshot ${path}: ${what}`);
  };
  if (bytes.length < PREFIX + DIGEST) fail(`file is ${bytes.length} bytes, too short to be a snapshot (truncated?)`);
  if (bytes.toString("latin1", 0, 8) !== MAGIC) fail(`not a qttdm snapshot (magic ${JSON.stringify(bytes.toString("latin1", 0, 8))}, expected "${MAGIC}")`);
  const version = bytes.readUInt32LE(8);
  if (version !== VERSION) fail(`format version ${version} is not supported (this build reads version ${VERSION})`);
  const total = bytes.readDoubleLE(16);
  if (total !== bytes.length) {
    fail(total > bytes.length ? `truncated: header says ${total} bytes, file has ${bytes.length}` : `header says ${total} bytes but file has ${bytes.length} (trailing data)`);
  }
  const digest = createHash("sha256").update(bytes.subarray(0, total - DIGEST)).digest();
  if (!digest.equals(bytes.subarray(total - DIGEST))) fail("checksum mismatch: the file is corrupt");
  const hLen = bytes.readUInt32LE(12);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.toString("utf8", PREFIX, PREFIX + hLen)) as Record<string, unknown>;
  } catch (err) {
    return fail(`unreadable header: ${(err as Error).message}`);
  }
  if (header.kind !== kind) fail(`holds a ${JSON.stringify(header.kind)} snapshot, expected ${JSON.stringify(kind)}`);
  const dataStart = pad8(PREFIX + hLen);
  const sections = new Map<string, SnapshotArray>();
  for (const e of (header.sections ?? []) as SectionEntry[]) {
    const ctor = DTYPES[e.dtype];
    if (!ctor) fail(`section ${e.name} has unknown dtype ${JSON.stringify(e.dtype)}`);
    const len = e.length * ctor.BYTES_PER_ELEMENT;
    const at = dataStart + e.offset;
    if (!Number.isInteger(at) || at % 8 !== 0 || at + len > total - DIGEST) fail(`section ${e.name} lies outside the file`);
    // Copy into a fresh, aligned buffer: the read buffer's offsets need not be aligned.
    const copy = new Uint8Array(len);
    copy.set(bytes.subarray(at, at + len));
    sections.set(e.name, new ctor(copy.buffer));
  }
  return { header, sections };
}
