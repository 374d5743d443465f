import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";

describe("Rng", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const xa = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(xa);
  });

  it("restores its exact state, including the cached normal deviate", () => {
    const r = new Rng(7);
    r.normal(); // leaves a spare deviate cached
    const saved = JSON.parse(JSON.stringify(r.state()));
    const expected = [r.normal(), r.random(), r.integers(0, 10)];
    const restored = Rng.fromState(saved);
    expect([restored.normal(), restored.random(), restored.integers(0, 10)]).toEqual(expected);
  });

  it("draws uniform doubles in [0,1) with the right mean and variance", () => {
    const r = new Rng(1);
    let sum = 0, sq = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const u = r.random();
      expect(u >= 0 && u < 1).toBe(true);
      sum += u;
      sq += u * u;
    }
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(sq / n - (sum / n) ** 2).toBeCloseTo(1 / 12, 2);
  });

  it("draws unbiased integers in [low, high)", () => {
    const r = new Rng(3);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[r.integers(-2, 4) + 2]++;
    // chi-square with 5 dof; 20.5 is the 0.999 quantile
    const chi = counts.reduce((acc, c) => acc + (c - 10_000) ** 2 / 10_000, 0);
    expect(chi).toBeLessThan(20.5);
    expect(() => r.integers(3, 3)).toThrow(/high > low/);
  });

  it("draws standard normals", () => {
    const r = new Rng(5);
    const xs = r.fillNormal(new Float64Array(100_000));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(variance).toBeCloseTo(1, 1);
  });

  it("shuffles to a permutation and chooses members", () => {
    const r = new Rng(9);
    const xs = r.shuffle([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...xs].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([10, 20, 30]).toContain(r.choice([10, 20, 30]));
    expect(() => r.choice([])).toThrow(/non-empty/);
  });

  it("rejects a corrupt state", () => {
    expect(() => Rng.fromState({ s: [1, 2, 3] as never, spareNormal: null })).toThrow(/four uint32/);
  });
});
