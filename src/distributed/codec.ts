/**
 * The binary message an actor appends to the transition stream: a fixed header, then the batch's columns
 * (4-byte columns first, then the 1-byte flags), checked by a CRC-32 of everything but the checksum. The
 * learner decodes each message against its own replay spec and rejects, whole, anything that does not
 * match (wrong size, checksum, dimensions, flags or action range), so a garbage or truncated message is
 * never inserted.
 */
import CRC32 from "crc-32";
import { QttdmError } from "../core/errors.js";
import type { ReplaySpec } from "../replay/buffer.js";

/** "QTB1" little-endian. */
const MAGIC = 0x31425451;
const VERSION = 1;
const HEADER_BYTES = 56;
const MAX_TRANSITIONS = 65_536;

export class MessageError extends QttdmError {}

/** k transitions of one actor, batch-major, with the episodes that ended in them. */
export interface ActorBatch {
  obs: Float32Array; // [k * obsDim]
  nextObs: Float32Array; // [k * obsDim]
  action: Int32Array | Float32Array; // [k] discrete, [k * dim] continuous
  reward: Float32Array; // [k]
  terminated: Uint8Array; // [k]
  truncated: Uint8Array; // [k]
  /** The actor's own episode ids (unique per actor incarnation); the learner maps them to its own. */
  episodeId: Int32Array; // [k]
  stepInEpisode: Int32Array; // [k]
  /** Initial priority |δ| from the actor's TD estimate; NaN: none (the buffer's max priority applies). */
  priority: Float32Array; // [k]
  /** Return and length of each episode that ended in this batch (for charts/episodic_*). */
  episodeReturn: Float32Array; // [m]
  episodeLength: Int32Array; // [m]
}

export interface ActorMessage {
  actor: number;
  /** How many times this actor slot has been (re)started before this process. */
  incarnation: number;
  /** Messages this incarnation sent before this one (a gap means lost messages). */
  seq: number;
  /** Transitions this incarnation sent before this message. */
  sentBefore: number;
  /** The learner update count of the weights that chose these actions. */
  weightsVersion: number;
  batch: ActorBatch;
}

/** CRC-32 of the whole message except the checksum's own four bytes (36..40). */
function checksum(bytes: Uint8Array): number {
  return CRC32.buf(bytes.subarray(40), CRC32.buf(bytes.subarray(0, 36))) >>> 0;
}

function actionWidth(spec: ReplaySpec): number {
  return spec.action.kind === "discrete" ? 1 : spec.action.dim;
}

export function encodeMessage(m: ActorMessage, spec: ReplaySpec): Buffer {
  const b = m.batch;
  const k = b.reward.length;
  const d = spec.obsDim;
  const w = actionWidth(spec);
  const e = b.episodeReturn.length;
  const words = k * (2 * d + w + 5) + 2 * e;
  const buf = Buffer.alloc(HEADER_BYTES + 4 * words + 2 * k);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let o = HEADER_BYTES;
  const put = (a: ArrayLike<number>, setter: (at: number, v: number) => void, size: number) => {
    for (let i = 0; i < a.length; i++, o += size) setter(o, a[i]!);
  };
  const f32 = (at: number, v: number) => view.setFloat32(at, v, true);
  const i32 = (at: number, v: number) => view.setInt32(at, v, true);
  const u8 = (at: number, v: number) => view.setUint8(at, v);
  put(b.obs, f32, 4);
  put(b.nextObs, f32, 4);
  put(b.action, spec.action.kind === "discrete" ? i32 : f32, 4);
  put(b.reward, f32, 4);
  put(b.episodeId, i32, 4);
  put(b.stepInEpisode, i32, 4);
  put(b.priority, f32, 4);
  put(b.episodeReturn, f32, 4);
  put(b.episodeLength, i32, 4);
  put(b.terminated, u8, 1);
  put(b.truncated, u8, 1);
  view.setUint32(0, MAGIC, true);
  view.setUint16(4, VERSION, true);
  view.setUint8(6, spec.action.kind === "discrete" ? 0 : 1);
  const header = [m.actor, m.incarnation, m.seq, k, d, w, e];
  header.forEach((v, i) => view.setUint32(8 + 4 * i, v, true));
  view.setFloat64(40, m.sentBefore, true);
  view.setFloat64(48, m.weightsVersion, true);
  view.setUint32(36, checksum(buf), true);
  return buf;
}

/** Decodes and checks one message against the learner's replay spec. @throws MessageError saying what is wrong */
export function decodeMessage(raw: Uint8Array, spec: ReplaySpec): ActorMessage {
  if (raw.byteLength < HEADER_BYTES) throw new MessageError(`message of ${raw.byteLength} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  // One aligned copy, so that the columns can be typed-array views.
  const bytes = new Uint8Array(raw.byteLength);
  bytes.set(raw);
  const view = new DataView(bytes.buffer);
  const magic = view.getUint32(0, true);
  if (magic !== MAGIC) throw new MessageError(`bad magic 0x${magic.toString(16)}, expected 0x${MAGIC.toString(16)} (not a qttdm actor message)`);
  const version = view.getUint16(4, true);
  if (version !== VERSION) throw new MessageError(`format version ${version}, expected ${VERSION}`);
  const kind = view.getUint8(6) === 0 ? "discrete" : "continuous";
  const [actor, incarnation, seq, k, d, w, e] = Array.from({ length: 7 }, (_, i) => view.getUint32(8 + 4 * i, true)) as [number, number, number, number, number, number, number];
  if (kind !== spec.action.kind) throw new MessageError(`${kind} actions, expected ${spec.action.kind}`);
  if (d !== spec.obsDim || w !== actionWidth(spec)) throw new MessageError(`observation size ${d} and action width ${w}, expected ${spec.obsDim} and ${actionWidth(spec)}`);
  if (k < 1 || k > MAX_TRANSITIONS || e > k) throw new MessageError(`${k} transitions and ${e} ended episodes, expected 1..${MAX_TRANSITIONS} transitions and at most one episode end each`);
  const expected = HEADER_BYTES + 4 * (k * (2 * d + w + 5) + 2 * e) + 2 * k;
  if (raw.byteLength !== expected) throw new MessageError(`message of ${raw.byteLength} bytes, expected ${expected} for its header (truncated or padded)`);
  const crc = checksum(bytes);
  if (crc !== view.getUint32(36, true)) throw new MessageError(`checksum 0x${crc.toString(16)} does not match the header's 0x${view.getUint32(36, true).toString(16)} (damaged message)`);
  let o = HEADER_BYTES;
  const take = <T>(make: (buf: ArrayBuffer, at: number, n: number) => T, n: number, size: number): T => {
    const a = make(bytes.buffer, o, n);
    o += n * size;
    return a;
  };
  const f32 = (n: number) => take((b, at, len) => new Float32Array(b, at, len), n, 4);
  const i32 = (n: number) => take((b, at, len) => new Int32Array(b, at, len), n, 4);
  const batch: ActorBatch = {
    obs: f32(k * d),
    nextObs: f32(k * d),
    action: kind === "discrete" ? i32(k) : f32(k * w),
    reward: f32(k),
    episodeId: i32(k),
    stepInEpisode: i32(k),
    priority: f32(k),
    episodeReturn: f32(e),
    episodeLength: i32(e),
    terminated: take((b, at, len) => new Uint8Array(b, at, len), k, 1),
    truncated: take((b, at, len) => new Uint8Array(b, at, len), k, 1),
  };
  for (let j = 0; j < k; j++) {
    if (batch.terminated[j]! > 1 || batch.truncated[j]! > 1) throw new MessageError(`transition ${j}: terminated/truncated flags ${batch.terminated[j]}/${batch.truncated[j]}, expected 0 or 1`);
    if (batch.episodeId[j]! < 0 || batch.stepInEpisode[j]! < 0) throw new MessageError(`transition ${j}: episode ${batch.episodeId[j]} step ${batch.stepInEpisode[j]}, expected non-negative`);
    if (!Number.isFinite(batch.reward[j]!)) throw new MessageError(`transition ${j}: reward ${batch.reward[j]}, expected a finite number`);
    if (spec.action.kind === "discrete" && !(batch.action[j]! >= 0 && batch.action[j]! < spec.action.n)) {
      throw new MessageError(`transition ${j}: action ${batch.action[j]}, expected an integer in [0, ${spec.action.n})`);
    }
  }
  const sentBefore = view.getFloat64(40, true);
  const weightsVersion = view.getFloat64(48, true);
  if (!(Number.isSafeInteger(sentBefore) && sentBefore >= 0 && Number.isSafeInteger(weightsVersion) && weightsVersion >= 0)) {
    throw new MessageError(`counters sentBefore ${sentBefore} and weightsVersion ${weightsVersion}, expected non-negative integers`);
  }
  return { actor, incarnation, seq, sentBefore, weightsVersion, batch };
}
