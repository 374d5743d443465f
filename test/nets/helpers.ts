import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../src/core/rng.js";

/** Random float32 tensor from the project Rng (N(0, std²)). */
export function randn(shape: number[], rng: Rng, std = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.fillNormal(new Float32Array(n), 0, std) as Float32Array, shape);
}

/**
 * Finite-difference check of d loss / d v for every variable, at `coords` random coordinates each,
 * with central differences. Returns the worst violation of |fd − analytic| ≤ atol + rtol·|analytic|
 * (≤ 0 means the check passed), plus a description of where.
 */
export function gradCheck(
  loss: () => tf.Scalar,
  vars: tf.Variable[],
  rng: Rng,
  opts: { coords?: number; eps?: number; atol?: number; rtol?: number } = {},
): { worst: number; where: string } {
  const { coords = 6, eps = 1e-2, atol = 2e-3, rtol = 2e-2 } = opts;
  const { value, grads } = tf.variableGrads(loss, vars);
  value.dispose();
  let worst = -Infinity;
  let where = "";
  for (const v of vars) {
    const g = grads[v.name]!.dataSync();
    const base = v.dataSync().slice() as Float32Array;
    for (let c = 0; c < Math.min(coords, v.size); c++) {
      const i = rng.integers(0, v.size);
      const at = (delta: number) => {
        const p = base.slice();
        p[i] = p[i]! + delta;
        tf.tidy(() => v.assign(tf.tensor(p, v.shape)));
        return tf.tidy(() => loss().dataSync()[0]!);
      };
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
      const viol = Math.abs(fd - g[i]!) - (atol + rtol * Math.abs(g[i]!));
      if (viol > worst) {
        worst = viol;
        where = `${v.name}[${i}] fd=${fd} analytic=${g[i]}`;
      }
    }
  }
  tf.dispose(grads);
  return { worst, where };
}
