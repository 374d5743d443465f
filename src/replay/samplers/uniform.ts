/** uniform: every stored transition equally likely, unit weights. */
import type { Rng } from "../../core/rng.js";
import type { TransitionStore } from "../storage.js";
import type { Sampler } from "./types.js";

/** n uniform draws from [0, size) with unit weights (also the `sequenceStart: "uniform"` draw). */
export function drawUniform(size: number, n: number, rng: Rng, idx: Int32Array, weights: Float32Array): void {
  for (let b = 0; b < n; b++) idx[b] = rng.integers(0, size);
  weights.fill(1);
}

export class UniformSampler implements Sampler {
  readonly tree = null;
  readonly alpha = 0;
  readonly beta = 0;
  readonly usesReliability = false;

  constructor(private readonly store: TransitionStore) {}

  added(): void {}
  updated(): void {}
  reliabilityChanged(): void {}

  prepare(): boolean {
    return false;
  }

  rebuild(): void {}

  draw(n: number, rng: Rng, _isBeta: number, idx: Int32Array, weights: Float32Array): void {
    drawUniform(this.store.size, n, rng, idx, weights);
  }

  probability(): number {
    return 1 / this.store.size;
  }

  scalars(): Record<string, number> {
    return {};
  }

  arrays(): Record<string, never> {
    return {};
  }

  restore(): void {}
}
