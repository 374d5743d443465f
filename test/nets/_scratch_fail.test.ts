import * as tf from "@tensorflow/tfjs";
import { expect, it } from "vitest";
import { selectBackend } from "../../src/backend/index.js";
import { Rng } from "../../src/core/rng.js";
import { gradCheck, randn } from "./helpers.js";
it("gradCheck detects a wrong gradient", async () => {
  await selectBackend("cpu");
  const bad = tf.customGrad((x: any, save: any) => ({ value: tf.square(x), gradFunc: (dy: tf.Tensor) => tf.mul(dy, 2.1) as tf.Tensor }));
  const rng = new Rng(1);
  const x = tf.variable(randn([4], rng));
  const r = gradCheck(() => tf.sum(bad(x) as tf.Tensor) as tf.Scalar, [x], rng);
  expect(r.worst).toBeGreaterThan(0);
});
