import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../src/backend/index.js";
import { ConfigError } from "../../src/core/errors.js";
import { Rng } from "../../src/core/rng.js";
import { Dense, DuelingHead, Embedding, LayerNorm, Mlp, PositionEmbedding, Transformer } from "../../src/nets/layers.js";
import { selectParams } from "../../src/nets/module.js";
import { huber, selectColumns } from "../../src/nets/ops.js";

beforeAll(async () => {
  await selectBackend("cpu");
});

describe("modules", () => {
  it("name parameters stably and count them", () => {
    const m = new Mlp("encoder", 8, [16, 16], 4, new Rng(1));
    expect([...m.params().keys()]).toEqual([
      "encoder/dense0/kernel", "encoder/dense0/bias", "encoder/dense1/kernel", "encoder/dense1/bias", "encoder/dense2/kernel", "encoder/dense2/bias",
    ]);
    expect(m.numParams()).toBe(8 * 16 + 16 + 16 * 16 + 16 + 16 * 4 + 4);
    const t = new Transformer("tdm", { layers: 1, dim: 8, heads: 2 }, new Rng(1));
    expect([...t.params().keys()]).toContain("tdm/block0/attn/q/kernel");
    expect([...t.params().keys()]).toContain("tdm/lnf/gamma");
    expect([...selectParams(m.params(), "encoder/dense1").keys()]).toEqual(["encoder/dense1/kernel", "encoder/dense1/bias"]);
    expect(selectParams(m.params(), "encoder/dense").size).toBe(0);
    expect([...selectParams(m.params(), /bias$/).keys()]).toHaveLength(3);
    m.dispose();
    t.dispose();
  });

  it("initialise deterministically from the seed, independent of tfjs's global seed", () => {
    const a = new Mlp("q", 4, [8], 2, new Rng(42));
    tf.randomNormal([10]).dispose();
    const b = new Mlp("q", 4, [8], 2, new Rng(42));
    const c = new Mlp("q", 4, [8], 2, new Rng(43));
    const v = (m: Mlp) => [...m.params().values()].map((x) => Array.from(x.dataSync()));
    expect(v(a)).toEqual(v(b));
    expect(v(a)).not.toEqual(v(c));
    // PyTorch Linear default: U(±1/√fan_in).
    expect(Math.max(...v(a)[0]!.map(Math.abs))).toBeLessThanOrEqual(0.5);
    for (const m of [a, b, c]) m.dispose();
  });

  it("Mlp zero-initialises the last layer on request", () => {
    const m = new Mlp("head", 4, [8], 3, new Rng(1), { lastInit: "zeros", activation: "leaky_relu" });
    expect(tf.sum(tf.abs(m.apply(tf.ones([2, 4])))).dataSync()[0]).toBe(0);
    m.dispose();
  });

  it("Mlp with layerNorm normalises each activated layer before its activation, not the output", () => {
    const m = new Mlp("q", 4, [8, 6], 3, new Rng(1), { layerNorm: true });
    expect([...m.params().keys()]).toEqual([
      "q/dense0/kernel", "q/dense0/bias", "q/norm0/gamma", "q/norm0/beta",
      "q/dense1/kernel", "q/dense1/bias", "q/norm1/gamma", "q/norm1/beta",
      "q/dense2/kernel", "q/dense2/bias",
    ]);
    expect(m.numParams()).toBe(new Mlp("p", 4, [8, 6], 3, new Rng(1)).numParams() + 2 * 8 + 2 * 6);
    const x = tf.tensor2d([[1, -2, 3, 0.5], [100, 50, -70, 20]]);
    // With γ = 1, β = 0 the first layer's output is relu of a zero-mean, unit-variance row, whatever the input scale.
    const pre = m.norms[0]!.apply(m.layers[0]!.apply(x)) as tf.Tensor2D;
    const mean = tf.mean(pre, 1).arraySync() as number[];
    const variance = tf.moments(pre, 1).variance.arraySync() as number[];
    for (const v of mean) expect(v).toBeCloseTo(0, 5);
    for (const v of variance) expect(v).toBeCloseTo(1, 3);
    const h = tf.relu(pre);
    const y = m.layers[2]!.apply(tf.relu(m.norms[1]!.apply(m.layers[1]!.apply(h)))).arraySync();
    expect(m.apply(x).arraySync()).toEqual(y);
    // Outputs stay unnormalised: scaling the last layer scales Q.
    expect(m.norms[2]).toBeNull();
    m.dispose();
  });

  it.each(["cpu", "wasm"] as const)("infer (no gradient) equals apply for dense, layer norm and MLPs with and without norms (%s)", async (backend) => {
    await selectBackend(backend);
    const rng = new Rng(12);
    const x = tf.tensor2d(rng.fillNormal(new Float32Array(5 * 6), 0, 2), [5, 6]);
    const layers = [
      new Dense("d", 6, 4, rng, { activation: "gelu" }),
      new LayerNorm("n", 6, rng),
      new Mlp("m", 6, [8, 8], 3, rng, { activation: "gelu" }),
      new Mlp("mn", 6, [8], 3, rng, { activation: "relu", layerNorm: true }),
    ];
    for (const l of layers) {
      for (const v of l.params().values()) v.assign(tf.tensor(rng.fillNormal(new Float32Array(v.size), 0, 0.5), v.shape));
      const [a, b] = tf.tidy(() => [l.apply(x), l.infer(x)].map((t) => Array.from(t.dataSync())));
      b!.forEach((v, i) => expect(v, l.name).toBeCloseTo(a![i]!, 5));
      l.dispose();
    }
    x.dispose();
    await selectBackend("cpu");
  });

  it("rejects bad sizes with the layer name", () => {
    expect(() => new Dense("d", 0, 2, new Rng(1))).toThrow(ConfigError);
    expect(() => new Transformer("t", { layers: 1, dim: 10, heads: 3 }, new Rng(1))).toThrow(/not divisible by heads 3/);
    expect(() => new Dense("d", 2, 2, new Rng(1), { activation: "swish" as never })).toThrow(/activation "swish"/);
  });

  it("dueling head: Q = V + A − mean(A)", () => {
    const h = new DuelingHead("duel", 3, 4, new Rng(1));
    const x = tf.tensor2d([[1, -2, 0.5]]);
    const q = h.apply(x).dataSync();
    const v = h.value.apply(x).dataSync()[0]!;
    const a = Array.from(h.advantage.apply(x).dataSync());
    const mean = a.reduce((s, y) => s + y, 0) / 4;
    for (let i = 0; i < 4; i++) expect(q[i]).toBeCloseTo(v + a[i]! - mean, 5);
    h.dispose();
  });

  it("embeddings and positions have the documented shapes", () => {
    const e = new Embedding("bins", 256, 16, new Rng(1));
    expect(e.apply(tf.tensor2d([[1, 2, 3]], [1, 3], "int32")).shape).toEqual([1, 3, 16]);
    const p = new PositionEmbedding("pos", 20, 16, new Rng(1));
    expect(p.apply(tf.zeros([2, 5, 16]) as tf.Tensor3D).shape).toEqual([2, 5, 16]);
    expect(() => p.apply(tf.zeros([1, 21, 16]) as tf.Tensor3D)).toThrow(/exceeds maxLen 20/);
    const t = new Transformer("t", { layers: 2, dim: 16, heads: 4 }, new Rng(1));
    expect(t.apply(tf.zeros([2, 5, 16]) as tf.Tensor3D).shape).toEqual([2, 5, 16]);
    for (const m of [e, p, t]) m.dispose();
  });
});

describe("loss helpers", () => {
  it("huber equals PyTorch smooth_l1 (beta 1) and selectColumns picks per row", () => {
    expect(Array.from(huber(tf.tensor1d([0.5, -2, 3])).dataSync())).toEqual([0.125, 1.5, 2.5]);
    const q = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    expect(Array.from(selectColumns(q, new Int32Array([2, 0])).dataSync())).toEqual([3, 4]);
    expect(Array.from(selectColumns(q, tf.tensor1d([1, 2], "int32")).dataSync())).toEqual([2, 6]);
  });
});
