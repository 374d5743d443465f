import { describe, expect, it } from "vitest";
import { tdFromHuber } from "../../src/distributed/priorities.js";

const huber = (d: number, k: number) => (Math.abs(d) <= k ? 0.5 * d * d : k * (Math.abs(d) - 0.5 * k));

describe("Ape-X initial priorities", () => {
  it("tdFromHuber inverts the Huber loss on both of its branches", () => {
    for (const kappa of [0.5, 1, 10]) {
      for (const d of [0, 1e-4, 0.3, 0.5, 0.99, 1, 1.01, 2, 7.5, 100, -3]) {
        expect(tdFromHuber(huber(d, kappa), kappa)).toBeCloseTo(Math.abs(d), 6);
      }
    }
  });
});
