import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { NumpyGenerator, seedSequenceGenerateState } from "../../src/core/numpy-random.js";
import { readReference } from "../envs/reference-data.js";

interface RngCheck {
  seeds: { seed: number; pcg64_random_raw_uint64: string[]; random_doubles: number[]; integers_m9999_9999: number[] }[];
}
const ref = readReference<RngCheck>("lunarlander/rng_check.json");

describe("NumpyGenerator (numpy PCG64 + SeedSequence)", () => {
  it("SeedSequence(0).generate_state(4) matches numpy", () => {
    // np.random.SeedSequence(0).generate_state(4)
    expect(Array.from(seedSequenceGenerateState(0, 4))).toEqual([2968811710, 3677149159, 745650761, 2884920346]);
  });

  for (const s of ref.seeds) {
    it(`seed ${s.seed}: raw uint64, random() and integers(-9999, 9999) are bit-exact`, () => {
      const raw = NumpyGenerator.fromSeed(s.seed);
      expect(s.pcg64_random_raw_uint64.map(() => raw.nextUint64().toString())).toEqual(s.pcg64_random_raw_uint64);
      const dbl = NumpyGenerator.fromSeed(s.seed);
      expect(s.random_doubles.map(() => dbl.random())).toEqual(s.random_doubles);
      const ints = NumpyGenerator.fromSeed(s.seed);
      expect(s.integers_m9999_9999.map(() => ints.integers(-9999, 9999))).toEqual(s.integers_m9999_9999);
    });
  }

  it("uniform and uniformArray are affine maps of random()", () => {
    const a = NumpyGenerator.fromSeed(3);
    const b = NumpyGenerator.fromSeed(3);
    const arr = a.uniformArray(-1, 1, 5);
    for (let i = 0; i < 5; i++) expect(arr[i]).toBe(-1 + 2 * b.random());
    expect(a.uniform(2, 5)).toBe(2 + 3 * b.random());
  });

  it("state() round-trips through JSON, including the buffered 32-bit half", () => {
    const g = NumpyGenerator.fromSeed(11);
    g.integers(0, 10); // leaves a buffered uint32
    const saved = JSON.parse(JSON.stringify(g.state()));
    expect(saved.hasUint32).toBe(true);
    const expected = [g.integers(-5, 5), g.random(), g.integers(0, 2 ** 40), g.nextUint64().toString()];
    const h = NumpyGenerator.fromState(saved);
    expect([h.integers(-5, 5), h.random(), h.integers(0, 2 ** 40), h.nextUint64().toString()]).toEqual(expected);
  });

  it("integers covers its range and rejects bad bounds", () => {
    const g = NumpyGenerator.fromSeed(5);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(g.integers(-2, 2));
    expect([...seen].sort()).toEqual([-1, -2, 0, 1]);
    expect(g.integers(7, 8)).toBe(7);
    expect(() => g.integers(3, 3)).toThrow(/high > low/);
    expect(() => g.integers(0.5, 3)).toThrow(/safe integers/);
    expect(() => NumpyGenerator.fromSeed(-1)).toThrow(/non-negative/);
    expect(() => g.setState({ ...g.state(), inc: "2" })).toThrow(/odd/);
  });
});

interface NormalFixture {
  standard_normal: { seed: number; values: number[] }[];
  normal: { seed: number; loc: number; scale: number; values: number[] }[];
  long_stream: { seed: number; n: number; xor_bits: string; tail: [number, number][] };
}
// Written by test/core/fixtures/numpy-normal.py from numpy itself.
const normalRef = JSON.parse(readFileSync(new URL("./fixtures/numpy-normal.json", import.meta.url), "utf8")) as NormalFixture;

describe("NumpyGenerator normal draws (numpy's ziggurat)", () => {
  for (const s of normalRef.standard_normal) {
    it(`seed ${s.seed}: standardNormal() equals Generator.standard_normal bit for bit`, () => {
      const g = NumpyGenerator.fromSeed(s.seed);
      expect(s.values.map(() => g.standardNormal())).toEqual(s.values);
    });
  }

  it("normalArray(loc, scale, n) equals Generator.normal(loc, scale, n)", () => {
    for (const s of normalRef.normal) {
      expect(Array.from(NumpyGenerator.fromSeed(s.seed).normalArray(s.loc, s.scale, s.values.length))).toEqual(s.values);
    }
    const g = NumpyGenerator.fromSeed(1);
    expect(() => g.normalArray(0, -1, 3)).toThrow(/scale must be >= 0/);
    expect(() => g.normalArray(0, 1, 1.5)).toThrow(/non-negative integer/);
  });

  it("a million draws match numpy, wedge and tail draws included", () => {
    const { seed, n, xor_bits, tail } = normalRef.long_stream;
    const g = NumpyGenerator.fromSeed(seed);
    const bits = new Uint32Array(2);
    const view = new Float64Array(bits.buffer);
    let xorLo = 0;
    let xorHi = 0;
    const beyond: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      const x = g.standardNormal();
      view[0] = x;
      xorLo ^= bits[0]!;
      xorHi ^= bits[1]!;
      if (Math.abs(x) > 3.6541528853610088) beyond.push([i, x]);
    }
    // The tail list pins the draws only the tail algorithm (log1p) returns; the XOR pins every draw.
    expect(beyond).toEqual(tail);
    expect(tail.length).toBeGreaterThan(100);
    const hex = (v: number) => (v >>> 0).toString(16).padStart(8, "0");
    expect(hex(xorHi) + hex(xorLo)).toBe(xor_bits);
  });
});
