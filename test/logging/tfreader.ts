/**
 * An independent TFRecord / protobuf reader for the tests: its own bitwise CRC32C and its own
 * wire-format parser, so a mistake in the writer's encoder cannot cancel out here.
 */

function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

export function masked(data: Uint8Array): number {
  const c = crc32c(data);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

export { crc32c as crc32cReference };

/** Splits a TFRecord file into records, checking both CRCs of each. */
export function readRecords(buf: Uint8Array): Uint8Array[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Uint8Array[] = [];
  let off = 0;
  while (off < buf.length) {
    const len = Number(view.getBigUint64(off, true));
    if (view.getUint32(off + 8, true) !== masked(buf.subarray(off, off + 8))) throw new Error(`bad length crc at ${off}`);
    const data = buf.subarray(off + 12, off + 12 + len);
    if (view.getUint32(off + 12 + len, true) !== masked(data)) throw new Error(`bad data crc at ${off}`);
    out.push(data);
    off += 16 + len;
  }
  if (off !== buf.length) throw new Error("trailing bytes");
  return out;
}

export type Field = { field: number; wire: number; varint?: bigint; fixed64?: DataView; fixed32?: DataView; bytes?: Uint8Array };

/** Parses one message level into its fields, in order. */
export function parseFields(buf: Uint8Array): Field[] {
  const fields: Field[] = [];
  let off = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[off++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (off < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) fields.push({ field, wire, varint: varint() });
    else if (wire === 1) {
      fields.push({ field, wire, fixed64: new DataView(buf.buffer, buf.byteOffset + off, 8) });
      off += 8;
    } else if (wire === 5) {
      fields.push({ field, wire, fixed32: new DataView(buf.buffer, buf.byteOffset + off, 4) });
      off += 4;
    } else if (wire === 2) {
      const len = Number(varint());
      fields.push({ field, wire, bytes: buf.subarray(off, off + len) });
      off += len;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  if (off !== buf.length) throw new Error("message overran its length");
  return fields;
}

export const get = (fs: Field[], n: number): Field | undefined => fs.find((f) => f.field === n);
export const double = (f: Field | undefined): number => f!.fixed64!.getFloat64(0, true);
export const float = (f: Field | undefined): number => f!.fixed32!.getFloat32(0, true);
export const str = (f: Field | undefined): string => new TextDecoder().decode(f!.bytes!);
export function packedDoubles(f: Field | undefined): number[] {
  if (!f) return [];
  const v = new DataView(f.bytes!.buffer, f.bytes!.byteOffset, f.bytes!.byteLength);
  return Array.from({ length: f.bytes!.length / 8 }, (_, i) => v.getFloat64(8 * i, true));
}

export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  tag?: string;
  simpleValue?: number;
  histo?: { min: number; max: number; num: number; sum: number; sumSquares: number; limits: number[]; counts: number[] };
  text?: { pluginName: string; dtype: number; shapeDims: number; value: string };
}

/** Decodes an Event with at most one summary value. */
export function decodeEvent(data: Uint8Array): DecodedEvent {
  const ev = parseFields(data);
  const stepField = get(ev, 2);
  const out: DecodedEvent = { wallTime: double(get(ev, 1)), step: stepField ? Number(stepField.varint!) : 0 };
  if (get(ev, 3)) out.fileVersion = str(get(ev, 3));
  const summary = get(ev, 5);
  if (summary) {
    const values = parseFields(summary.bytes!).filter((f) => f.field === 1);
    if (values.length !== 1) throw new Error(`expected one Summary.Value, got ${values.length}`);
    const v = parseFields(values[0]!.bytes!);
    out.tag = str(get(v, 1));
    if (get(v, 2)) out.simpleValue = float(get(v, 2));
    const h = get(v, 5);
    if (h) {
      const hf = parseFields(h.bytes!);
      out.histo = {
        min: double(get(hf, 1)),
        max: double(get(hf, 2)),
        num: double(get(hf, 3)),
        sum: double(get(hf, 4)),
        sumSquares: double(get(hf, 5)),
        limits: packedDoubles(get(hf, 6)),
        counts: packedDoubles(get(hf, 7)),
      };
    }
    const tensor = get(v, 8);
    if (tensor) {
      const meta = parseFields(get(v, 9)!.bytes!);
      const plugin = parseFields(get(meta, 1)!.bytes!);
      const tf = parseFields(tensor.bytes!);
      out.text = {
        pluginName: str(get(plugin, 1)),
        dtype: Number(get(tf, 1)!.varint!),
        shapeDims: parseFields(get(tf, 2)!.bytes!).filter((f) => f.field === 2).length,
        value: str(get(tf, 8)),
      };
    }
  }
  return out;
}
