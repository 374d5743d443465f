import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import { decodeMessage, encodeMessage, MessageError, type ActorMessage } from "../../src/distributed/codec.js";
import { encodeAgentState, decodeAgentState } from "../../src/distributed/weights.js";
import type { ReplaySpec } from "../../src/replay/buffer.js";

const spec: ReplaySpec = { obsDim: 3, action: { kind: "discrete", n: 4 }, gamma: 0.99 };

function message(k = 5): ActorMessage {
  const f = (n: number, base: number) => Float32Array.from({ length: n }, (_, i) => base + i / 8);
  return {
    actor: 2,
    incarnation: 1,
    seq: 7,
    sentBefore: 320,
    weightsVersion: 1200,
    batch: {
      obs: f(k * 3, 0),
      nextObs: f(k * 3, 1),
      action: Int32Array.from({ length: k }, (_, i) => i % 4),
      reward: f(k, -1),
      terminated: Uint8Array.from({ length: k }, (_, i) => (i === k - 1 ? 1 : 0)),
      truncated: new Uint8Array(k),
      episodeId: new Int32Array(k).fill(9),
      stepInEpisode: Int32Array.from({ length: k }, (_, i) => 10 + i),
      priority: Float32Array.from({ length: k }, (_, i) => (i === 0 ? NaN : i)),
      episodeReturn: Float32Array.of(-12.5),
      episodeLength: Int32Array.of(10 + k),
    },
  };
}

describe("actor message codec", () => {
  it("round-trips every field, NaN priorities included", () => {
    const m = message();
    const back = decodeMessage(encodeMessage(m, spec), spec);
    expect(back).toEqual(m);
  });

  it("round-trips continuous actions", () => {
    const cont: ReplaySpec = { obsDim: 3, action: { kind: "continuous", dim: 2 }, gamma: 0.99 };
    const m = message(4);
    m.batch.action = Float32Array.from({ length: 8 }, (_, i) => i / 3 - 1);
    expect(decodeMessage(encodeMessage(m, cont), cont).batch.action).toEqual(m.batch.action);
    expect(() => decodeMessage(encodeMessage(m, cont), spec)).toThrow(/continuous actions, expected discrete/);
  });

  it("rejects messages of another spec, with out-of-range actions or bad flags", () => {
    expect(() => decodeMessage(encodeMessage(message(), spec), { ...spec, obsDim: 4 })).toThrow(/observation size 3 .* expected 4/);
    const bad = message();
    bad.batch.action[1] = 4;
    expect(() => decodeMessage(encodeMessage(bad, spec), spec)).toThrow(/action 4, expected an integer in \[0, 4\)/);
    const flags = message();
    flags.batch.truncated[0] = 2;
    expect(() => decodeMessage(encodeMessage(flags, spec), spec)).toThrow(/flags/);
  });

  it("fuzz: random bytes, truncations and single-byte corruptions are all rejected as MessageError", () => {
    const rng = new Rng(5);
    const good = encodeMessage(message(16), spec);
    let rejected = 0;
    for (let t = 0; t < 2_000; t++) {
      let raw: Uint8Array;
      const kind = t % 3;
      if (kind === 0) raw = Uint8Array.from({ length: Math.floor(rng.uniform() * 400) }, () => Math.floor(rng.uniform() * 256));
      else if (kind === 1) raw = good.subarray(0, Math.floor(rng.uniform() * good.byteLength));
      else {
        raw = Uint8Array.from(good);
        const at = Math.floor(rng.uniform() * raw.byteLength);
        raw[at] = (raw[at]! + 1 + Math.floor(rng.uniform() * 255)) % 256;
      }
      try {
        decodeMessage(raw, spec);
      } catch (err) {
        expect(err).toBeInstanceOf(MessageError);
        rejected++;
      }
    }
    expect(rejected).toBe(2_000);
  });
});

describe("published weights", () => {
  it("round-trip blobs and meta", () => {
    const state = { blobs: { a: Uint8Array.of(1, 2, 3), b: new Uint8Array(0), c: new Uint8Array(new Float32Array([1.5, -2]).buffer) }, meta: { updates: 3, x: [1, "y"] } };
    const back = decodeAgentState(encodeAgentState(state));
    expect(back.meta).toEqual(state.meta);
    expect(Object.keys(back.blobs)).toEqual(["a", "b", "c"]);
    for (const k of ["a", "b", "c"] as const) expect(Array.from(back.blobs[k]!)).toEqual(Array.from(state.blobs[k]));
    expect(() => decodeAgentState(encodeAgentState(state).subarray(0, 20))).toThrow(/published weights/);
  });
});
