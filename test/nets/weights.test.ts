import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../src/backend/index.js";
import { FileFormatError } from "../../src/core/errors.js";
import { Rng } from "../../src/core/rng.js";
import { Mlp } from "../../src/nets/layers.js";
import { Adam } from "../../src/nets/optim.js";
import { copyWeights, decodeArrays, encodeArrays, loadWeights, loadWeightsFile, polyakUpdate, saveWeights, saveWeightsFile } from "../../src/nets/weights.js";

const dir = mkdtempSync(path.join(tmpdir(), "qttdm-weights-"));
beforeAll(async () => {
  await selectBackend("cpu");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const values = (m: Mlp) => [...m.params().values()].map((v) => Array.from(v.dataSync()));

function trained(seed: number) {
  const net = new Mlp("q", 3, [5], 2, new Rng(seed));
  const opt = new Adam(net.params(), { lr: 0.01 });
  const x = tf.tensor2d([[1, 2, 3]]);
  for (let i = 0; i < 3; i++) opt.step(() => tf.sum(tf.square(net.apply(x))) as tf.Scalar);
  x.dispose();
  return { net, opt };
}

describe("weights I/O", () => {
  it("round-trips parameters and optimiser state in memory", () => {
    const a = trained(1);
    const bytes = saveWeights(a.net, a.opt, { step: 3 });
    const b = { net: new Mlp("q", 3, [5], 2, new Rng(2)), opt: undefined as unknown as Adam };
    b.opt = new Adam(b.net.params(), { lr: 0.01 });
    expect(loadWeights(bytes, b.net, b.opt)).toEqual({ step: 3 });
    expect(values(b.net)).toEqual(values(a.net));
    expect(b.opt.updates).toBe(3);
    // Same state ⇒ identical next step.
    const x = tf.tensor2d([[0.5, -1, 2]]);
    a.opt.step(() => tf.sum(tf.square(a.net.apply(x))) as tf.Scalar);
    b.opt.step(() => tf.sum(tf.square(b.net.apply(x))) as tf.Scalar);
    expect(values(b.net)).toEqual(values(a.net));
    for (const s of [a, b]) {
      s.net.dispose();
      s.opt.dispose();
    }
    x.dispose();
  });

  it("writes files atomically and reads them back", async () => {
    const a = trained(3);
    const file = path.join(dir, "sub", "w.qtw");
    await saveWeightsFile(file, a.net, a.opt, { note: "x" });
    expect(readdirSync(path.dirname(file))).toEqual(["w.qtw"]);
    const b = new Mlp("q", 3, [5], 2, new Rng(4));
    expect(await loadWeightsFile(file, b)).toEqual({ note: "x" });
    expect(values(b)).toEqual(values(a.net));
    await expect(loadWeightsFile(path.join(dir, "missing.qtw"), b)).rejects.toThrow(/cannot read/);
    a.net.dispose();
    a.opt.dispose();
    b.dispose();
  });

  it("names the parameter and both shapes on a mismatch, and missing/extra parameters", () => {
    const a = new Mlp("q", 3, [5], 2, new Rng(1));
    const bytes = saveWeights(a);
    const wider = new Mlp("q", 3, [6], 2, new Rng(1));
    expect(() => loadWeights(bytes, wider)).toThrow(/params\/q\/dense0\/kernel: file has shape \[3, 5\], model expects \[3, 6\]/);
    const deeper = new Mlp("q", 3, [5, 5], 2, new Rng(1));
    let msg = "";
    try {
      loadWeights(bytes, deeper);
    } catch (e) {
      expect(e).toBeInstanceOf(FileFormatError);
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/missing params\/q\/dense2\/kernel/);
    const renamed = new Mlp("critic", 3, [5], 2, new Rng(1));
    expect(() => loadWeights(bytes, renamed)).toThrow(/unexpected params\/q\/dense0\/kernel/);
    // Nothing was modified by the failed loads.
    expect(values(renamed)).toEqual(values(new Mlp("critic", 3, [5], 2, new Rng(1))));
    for (const m of [a, wider, deeper, renamed]) m.dispose();
  });

  it("detects corruption by checksum and rejects foreign files and versions", () => {
    const bytes = encodeArrays(new Map([["x", { shape: [2], data: new Float32Array([1, 2]) }]]));
    expect(decodeArrays(bytes).arrays.get("x")!.data).toEqual(new Float32Array([1, 2]));
    const flipped = bytes.slice();
    flipped[flipped.length - 1]! ^= 0xff;
    expect(() => decodeArrays(flipped)).toThrow(/data checksum mismatch/);
    const header = bytes.slice();
    header[20]! ^= 0x01;
    expect(() => decodeArrays(header)).toThrow(/header checksum mismatch/);
    expect(() => decodeArrays(new TextEncoder().encode("not a weights file at all"))).toThrow(/magic/);
    expect(() => decodeArrays(bytes.subarray(0, bytes.length - 4))).toThrow(/truncated/);
    const file = path.join(dir, "corrupt.qtw");
    writeFileSync(file, flipped);
    expect(readFileSync(file).length).toBe(bytes.length);
  });
});

describe("target-network helpers", () => {
  it("copyWeights makes an exact copy; polyakUpdate interpolates", () => {
    const src = new Mlp("q", 2, [3], 1, new Rng(1));
    const dst = new Mlp("q", 2, [3], 1, new Rng(2));
    const before = values(dst);
    polyakUpdate(src, dst, 0.25);
    const s = values(src);
    values(dst).forEach((arr, i) => arr.forEach((x, j) => expect(x).toBeCloseTo(0.25 * s[i]![j]! + 0.75 * before[i]![j]!, 6)));
    copyWeights(src, dst);
    expect(values(dst)).toEqual(s);
    // The copy is independent of later changes to the source.
    polyakUpdate(dst, src, 1);
    expect(() => polyakUpdate(src, dst, 1.5)).toThrow(/tau/);
    const other = new Mlp("q", 2, [4], 1, new Rng(3));
    expect(() => copyWeights(src, other)).toThrow(/q\/dense0\/kernel: source \[2, 3\] vs destination \[2, 4\]/);
    for (const m of [src, dst, other]) m.dispose();
  });
});
