/**
 * An agent state as one binary value (what the learner publishes and actors load): a 4-byte length, a JSON
 * header with the meta and each blob's name and size, then the blobs back to back.
 */
import type { AgentState } from "../agents/types.js";
import { QttdmError } from "../core/errors.js";

export function encodeAgentState(state: AgentState): Buffer {
  const names = Object.keys(state.blobs);
  const header = Buffer.from(JSON.stringify({ meta: state.meta, blobs: names.map((n) => [n, state.blobs[n]!.byteLength]) }));
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(header.byteLength);
  return Buffer.concat([prefix, header, ...names.map((n) => state.blobs[n]!)]);
}

export function decodeAgentState(buf: Buffer): AgentState {
  const fail = (why: string) => new QttdmError(`published weights: ${why}; expected a value written by the learner of this run`);
  if (buf.byteLength < 4) throw fail(`${buf.byteLength} bytes`);
  const len = buf.readUInt32LE(0);
  if (4 + len > buf.byteLength) throw fail(`header of ${len} bytes in a value of ${buf.byteLength}`);
  const header = JSON.parse(buf.subarray(4, 4 + len).toString("utf8")) as { meta: Record<string, unknown>; blobs: [string, number][] };
  const blobs: Record<string, Uint8Array> = {};
  let o = 4 + len;
  for (const [name, size] of header.blobs) {
    if (o + size > buf.byteLength) throw fail(`blob ${name} of ${size} bytes runs past the end`);
    // A copy: the blob readers make typed views that need their own aligned buffer.
    blobs[name] = new Uint8Array(buf.subarray(o, o + size));
    o += size;
  }
  return { meta: header.meta, blobs };
}
