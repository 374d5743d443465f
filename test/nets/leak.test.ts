/** Hot paths must not leak tensors: counts stay flat over many updates (wasm backend, as in production). */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { countLeaked, numTensors, selectBackend } from "../../src/backend/index.js";
import { Rng } from "../../src/core/rng.js";
import { Dense, DuelingHead, Embedding, Mlp, PositionEmbedding, Transformer } from "../../src/nets/layers.js";
import { huber, selectColumns } from "../../src/nets/ops.js";
import { Adam } from "../../src/nets/optim.js";
import { copyWeights, loadWeights, polyakUpdate, saveWeights } from "../../src/nets/weights.js";

beforeAll(async () => {
  await selectBackend("wasm");
});

describe("no tensor leaks", () => {
  it("2,000 Double-DQN updates of a small net keep numTensors flat", () => {
    const rng = new Rng(1);
    const online = new Mlp("q", 4, [16], 3, rng);
    const target = new Mlp("q", 4, [16], 3, rng);
    copyWeights(online, target);
    const opt = new Adam(online.params(), { lr: 1e-3, clipNorm: 10 });
    const s = new Float32Array(32 * 4);
    const a = new Int32Array(32);
    const update = () => {
      rng.fillUniform(s, -1, 1);
      for (let i = 0; i < 32; i++) a[i] = rng.integers(0, 3);
      const y = tf.tidy(() => {
        const next = tf.tensor2d(s, [32, 4]);
        const aStar = tf.argMax(online.apply(next, false), 1) as tf.Tensor1D;
        return tf.mul(selectColumns(target.apply(next, false) as tf.Tensor2D, aStar), 0.99);
      });
      const r = opt.step(() => {
        const td = tf.sub(selectColumns(online.apply(tf.tensor2d(s, [32, 4]), false) as tf.Tensor2D, a), y);
        return { loss: tf.mean(huber(td)) as tf.Scalar, aux: { td } };
      });
      y.dispose();
      polyakUpdate(online, target, 0.005);
      return r;
    };
    for (let i = 0; i < 10; i++) update();
    const before = numTensors();
    let last = update();
    for (let i = 1; i < 2000; i++) last = update();
    expect(numTensors()).toBe(before);
    expect(Number.isFinite(last.loss)).toBe(true);
    expect(last.aux.td).toHaveLength(32);
    online.dispose();
    target.dispose();
    opt.dispose();
  });

  it("transformer, embedding and dueling-head training steps, weight I/O and acting do not leak", () => {
    const rng = new Rng(2);
    const emb = new Embedding("emb", 16, 8, rng);
    const pos = new PositionEmbedding("pos", 6, 8, rng);
    const body = new Transformer("tf", { layers: 1, dim: 8, heads: 2 }, rng);
    const head = new DuelingHead("head", 8, 3, rng);
    const inp = new Dense("inp", 2, 8, rng);
    const params = new Map([...emb.params(), ...pos.params(), ...body.params(), ...head.params(), ...inp.params()]);
    const opt = new Adam([
      { name: "encoder", params: new Map([...emb.params(), ...pos.params(), ...body.params(), ...inp.params()]), lr: 1e-4 },
      { name: "head", params: head.params(), lr: 1e-3, weightDecay: 0 },
    ], { weightDecay: 1e-6 });
    const ids = tf.tensor2d([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]], [2, 5], "int32");
    const x = tf.ones([2, 5, 2]);
    const step = () =>
      opt.step(() => {
        const h = body.apply(pos.apply(tf.add(emb.apply(ids), inp.apply(x)) as tf.Tensor3D));
        return tf.mean(tf.square(head.apply(tf.reshape(h, [-1, 8]) as tf.Tensor2D))) as tf.Scalar;
      });
    expect(countLeaked(step, 30)).toBe(0);
    const bytes = saveWeights(params, opt);
    expect(countLeaked(() => loadWeights(bytes, params, opt), 5)).toBe(0);
    expect(countLeaked(() => opt.stateTensors().forEach((t) => t.dispose()), 5)).toBe(0);
    for (const m of [emb, pos, body, head, inp]) m.dispose();
    opt.dispose();
    tf.dispose([ids, x]);
  });
});
