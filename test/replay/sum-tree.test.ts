import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import { PriorityTree } from "../../src/replay/sum-tree.js";

/** Chi-square critical value for df degrees of freedom at p = 0.001 (Wilson–Hilferty). */
function chiSquareCritical(df: number): number {
  const z = 3.0902; // standard normal quantile at 0.999
  const a = 2 / (9 * df);
  return df * Math.pow(1 - a + z * Math.sqrt(a), 3);
}

describe("PriorityTree", () => {
  it("samples leaves in proportion to their priorities (chi-square, 100k draws)", () => {
    const rng = new Rng(3);
    const n = 37; // not a power of two: padded leaves must never be drawn
    const tree = new PriorityTree(n);
    const p = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      p[i] = Math.fround(0.05 + rng.random() * (i % 5 === 0 ? 10 : 1));
      tree.set(i, p[i]!);
    }
    const draws = 100_000;
    const counts = new Float64Array(tree.leaves.length);
    const total = tree.total();
    for (let k = 0; k < draws; k++) counts[tree.find(rng.random() * total)]!++;
    for (let i = n; i < tree.leaves.length; i++) expect(counts[i]).toBe(0);
    const sum = p.reduce((a, b) => a + b, 0);
    let chi = 0;
    for (let i = 0; i < n; i++) {
      const e = (draws * p[i]!) / sum;
      chi += (counts[i]! - e) ** 2 / e;
    }
    expect(chi).toBeLessThan(chiSquareCritical(n - 1));
    // A deliberately wrong distribution fails the same test (the test can fail).
    let chiWrong = 0;
    for (let i = 0; i < n; i++) {
      const e = draws / n;
      chiWrong += (counts[i]! - e) ** 2 / e;
    }
    expect(chiWrong).toBeGreaterThan(chiSquareCritical(n - 1));
  });

  it("find() maps cumulative ranges to leaves exactly", () => {
    const tree = new PriorityTree(5);
    [1, 0, 2, 0.5, 4].forEach((v, i) => tree.set(i, v));
    expect(tree.find(0)).toBe(0);
    expect(tree.find(0.999)).toBe(0);
    expect(tree.find(1)).toBe(2); // leaf 1 is empty and never returned
    expect(tree.find(2.999)).toBe(2);
    expect(tree.find(3.2)).toBe(3);
    expect(tree.find(3.5)).toBe(4);
    expect(tree.find(7.5)).toBe(4); // at or past the total: the last non-empty leaf
  });

  it("keeps the total exact under many updates and matches a rebuild bit for bit", () => {
    const rng = new Rng(5);
    const n = 1000;
    const tree = new PriorityTree(n);
    const leaves = new Float32Array(n);
    for (let k = 0; k < 20_000; k++) {
      const i = rng.integers(0, n);
      const v = rng.random() < 0.1 ? 0 : rng.random() * 1e3 * Math.pow(10, -rng.integers(0, 6));
      tree.set(i, v);
      leaves[i] = v;
    }
    let naive = 0;
    for (let i = 0; i < n; i++) naive += leaves[i]!;
    expect(Math.abs(tree.total() - naive)).toBeLessThanOrEqual(1e-12 * naive);
    const before = tree.total();
    const minBefore = tree.min();
    tree.rebuild();
    expect(tree.total()).toBe(before);
    expect(tree.min()).toBe(minBefore);
  });

  it("min-tree gives the smallest non-zero leaf and ignores empty ones", () => {
    const rng = new Rng(9);
    const n = 300;
    const tree = new PriorityTree(n);
    expect(tree.min()).toBe(Infinity);
    const leaves = new Float32Array(n);
    for (let k = 0; k < 5_000; k++) {
      const i = rng.integers(0, n);
      const v = rng.random() < 0.3 ? 0 : Math.fround(rng.random() + 1e-3);
      tree.set(i, v);
      leaves[i] = v;
      if (k % 97 === 0) {
        let m = Infinity;
        for (const x of leaves) if (x > 0 && x < m) m = x;
        expect(tree.min()).toBe(m);
      }
    }
  });

  it("batched updates and descents equal one-at-a-time ones", () => {
    const rng = new Rng(13);
    const n = 5000;
    const a = new PriorityTree(n);
    const b = new PriorityTree(n);
    for (let round = 0; round < 50; round++) {
      // Alternate random leaves with ascending runs (as an episode's leaves come), which share parents.
      const start = rng.integers(0, n - 600);
      const idx = Int32Array.from({ length: 64 }, (_, k) => (round % 2 ? rng.integers(0, n) : start + k * rng.integers(1, 9)));
      for (const i of idx) {
        const v = rng.random() < 0.1 ? 0 : rng.random();
        a.set(i, v);
        b.leaves[i] = v;
      }
      b.fixLeaves(idx, idx.length);
      expect(b.total()).toBe(a.total());
      expect(b.min()).toBe(a.min());
    }
    const u = Float64Array.from({ length: 200 }, () => rng.random() * a.total());
    const expected = Array.from(u, (x) => a.find(x));
    const out = new Int32Array(200);
    b.findMany(u, out);
    expect(Array.from(out)).toEqual(expected);
  });

  it("findMany matches a linear scan, for sorted and unsorted draws, empty leaves and draws outside [0, total)", () => {
    const rng = new Rng(21);
    for (const n of [1, 7, 8, 9, 64, 65, 700, 4096 + 3]) {
      const tree = new PriorityTree(n);
      // Multiples of 1/4 keep every partial sum exact, so the scan and the tree agree at boundaries too.
      const leaves = Array.from({ length: n }, () => (rng.random() < 0.3 ? 0 : rng.integers(1, 33) / 4));
      leaves.forEach((v, i) => tree.set(i, v));
      const total = leaves.reduce((a, x) => a + x, 0);
      const lastNonEmpty = leaves.reduce((last, v, i) => (v > 0 ? i : last), -1);
      const scan = (u: number): number => {
        let acc = 0;
        for (let i = 0; i < n; i++) {
          if (leaves[i]! > 0 && Math.max(u, 0) < acc + leaves[i]!) return i;
          acc += leaves[i]!;
        }
        return lastNonEmpty;
      };
      if (total === 0) continue;
      const us = [0, -1, total, total + 5, ...Array.from({ length: 300 }, () => rng.integers(0, 4 * total + 1) / 4)];
      us.push(...us.slice(3).sort((a, b) => a - b));
      const out = new Int32Array(us.length);
      tree.findMany(Float64Array.from(us), out);
      expect(Array.from(out)).toEqual(us.map(scan));
    }
  });

  it("treats a negative-zero leaf as empty", () => {
    const tree = new PriorityTree(16);
    tree.set(3, 0.5);
    tree.set(9, -0);
    tree.set(12, 2);
    expect(tree.min()).toBe(0.5);
    expect(tree.find(0.5)).toBe(12);
  });

  it("works for capacity 1", () => {
    const tree = new PriorityTree(1);
    tree.set(0, 2);
    expect(tree.total()).toBe(2);
    expect(tree.find(1.5)).toBe(0);
    expect(tree.min()).toBe(2);
  });
});
