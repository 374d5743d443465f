/**
 * TensorBoard event files, written natively: TFRecord framing around serialized `Event` protos
 * (field numbers from tensorboard/compat/proto/{event,summary,histogram,tensor}.proto).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import CRC32C from "crc-32/crc32c.js";
import protobuf from "protobufjs/minimal.js";
import { FileFormatError } from "../core/errors.js";
import type { HistogramSummary } from "./histogram.js";
import { BufferedFile, type LogSink } from "./sink.js";

const { Writer } = protobuf;

// Wire types.
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

const tag = (field: number, wire: number): number => (field << 3) | wire;

/** CRC32C masked as TFRecord requires; `crc-32` returns a signed int32, so work in uint32. */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = CRC32C.buf(data) >>> 0;
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: uint64 LE length, masked CRC of those 8 bytes, the data, masked CRC of the data. */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 16);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

type ValueBody = (w: protobuf.Writer) => void;

/** Serializes an `Event` with `wall_time`, `step` and either a file version or one summary value. */
function encodeEvent(wallTime: number, step: number, body: { fileVersion: string } | { tag: string; value: ValueBody }): Uint8Array {
  const w = Writer.create();
  w.uint32(tag(1, FIXED64)).double(wallTime);
  if (step !== 0) w.uint32(tag(2, VARINT)).int64(step);
  if ("fileVersion" in body) {
    w.uint32(tag(3, LEN)).string(body.fileVersion);
  } else {
    w.uint32(tag(5, LEN)).fork(); // Event.summary
    w.uint32(tag(1, LEN)).fork(); // Summary.value (one)
    w.uint32(tag(1, LEN)).string(body.tag);
    body.value(w);
    w.ldelim().ldelim();
  }
  return w.finish();
}

function packedDoubles(w: protobuf.Writer, field: number, values: Float64Array): void {
  if (values.length === 0) return;
  w.uint32(tag(field, LEN)).fork();
  for (let i = 0; i < values.length; i++) w.double(values[i]!);
  w.ldelim();
}

export function encodeScalarEvent(tagName: string, value: number, step: number, wallTime: number): Uint8Array {
  return encodeEvent(wallTime, step, { tag: tagName, value: (w) => w.uint32(tag(2, FIXED32)).float(value) });
}

export function encodeHistogramEvent(tagName: string, h: HistogramSummary, step: number, wallTime: number): Uint8Array {
  return encodeEvent(wallTime, step, {
    tag: tagName,
    value: (w) => {
      w.uint32(tag(5, LEN)).fork(); // Summary.Value.histo = HistogramProto
      w.uint32(tag(1, FIXED64)).double(h.min);
      w.uint32(tag(2, FIXED64)).double(h.max);
      w.uint32(tag(3, FIXED64)).double(h.num);
      w.uint32(tag(4, FIXED64)).double(h.sum);
      w.uint32(tag(5, FIXED64)).double(h.sumSquares);
      packedDoubles(w, 6, h.bucketLimits);
      packedDoubles(w, 7, h.bucketCounts);
      w.ldelim();
    },
  });
}

const DT_STRING = 7;

/**
 * Text as TensorBoard's text plugin reads it: metadata.plugin_data.plugin_name = "text" (content is
 * an empty TextPluginData, i.e. version 0) and a rank-0 DT_STRING tensor holding the UTF-8 text.
 */
export function encodeTextEvent(tagName: string, text: string, step: number, wallTime: number): Uint8Array {
  return encodeEvent(wallTime, step, {
    tag: tagName,
    value: (w) => {
      w.uint32(tag(9, LEN)).fork(); // SummaryMetadata
      w.uint32(tag(1, LEN)).fork(); // PluginData
      w.uint32(tag(1, LEN)).string("text");
      w.ldelim().ldelim();
      w.uint32(tag(8, LEN)).fork(); // TensorProto
      w.uint32(tag(1, VARINT)).uint32(DT_STRING);
      w.uint32(tag(2, LEN)).fork().ldelim(); // empty TensorShapeProto: a scalar
      w.uint32(tag(8, LEN)).string(text);
      w.ldelim();
    },
  });
}

export const FILE_VERSION = "brain.Event:2";

/**
 * Writes `events.out.tfevents.<secs>.<host>` in `dir` (a `.<pid>.<n>` suffix is added if that name
 * is taken). Records are framed in memory and appended with a synchronous write in `flush()`.
 */
export class TensorBoardSink implements LogSink {
  private readonly file: BufferedFile;

  constructor(dir: string, wallTime: number = Date.now() / 1000) {
    fs.mkdirSync(dir, { recursive: true });
    const base = path.join(dir, `events.out.tfevents.${Math.floor(wallTime)}.${os.hostname()}`);
    let file = base;
    let fd: number | null = null;
    for (let n = 0; fd === null; n++) {
      try {
        fd = fs.openSync(file, "wx");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST" || n >= 1000) {
          throw new FileFormatError(`cannot create TensorBoard event file ${JSON.stringify(file)}: ${(err as Error).message}`);
        }
        file = `${base}.${process.pid}.${n + 1}`;
      }
    }
    this.file = new BufferedFile(file, fd, "TensorBoard event file");
    this.file.append(frameRecord(encodeEvent(wallTime, 0, { fileVersion: FILE_VERSION })));
    this.file.flush();
  }

  get path(): string {
    return this.file.path;
  }

  scalar(tagName: string, value: number, step: number, wallTime: number): void {
    this.push(encodeScalarEvent(tagName, value, step, wallTime));
  }

  histogram(tagName: string, summary: HistogramSummary, step: number, wallTime: number): void {
    this.push(encodeHistogramEvent(tagName, summary, step, wallTime));
  }

  text(tagName: string, text: string, step: number, wallTime: number): void {
    this.push(encodeTextEvent(tagName, text, step, wallTime));
  }

  private push(event: Uint8Array): void {
    this.file.append(frameRecord(event));
  }

  flush(): void {
    this.file.flush();
  }

  close(): void {
    this.file.close();
  }
}
