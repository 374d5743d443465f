/**
 * Seeded random numbers for everything in qttdm (library code never uses the unseeded global generator).
 *
 * xoshiro128** on four uint32 words: fast in JavaScript because it needs only 32-bit integer
 * operations, and its whole state is four numbers, so checkpoints can store and restore it exactly.
 * Gymnasium-compatible streams (numpy PCG64) live in `numpy-random.ts`; this generator is for
 * everything that does not have to match Python bit for bit.
 */
export interface RngState {
  /** The four xoshiro128** state words. */
  s: [number, number, number, number];
  /** A cached second normal deviate from Box-Muller, or null. */
  spareNormal: number | null;
}

const TWO_POW_32 = 4294967296;

function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  /**
   * The four state words. A typed array keeps them int32: as object fields the uint32 seeds
   * (≥ 2^31) were boxed doubles, and a draw took ~40 ns instead of ~12.
   */
  private readonly s = new Int32Array(4);
  private spare: number | null = null;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`Rng seed must be a finite number, got ${seed}`);
    // Mix both halves of seeds beyond 2^32 so nearby large seeds still give unrelated streams.
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    const mix = splitmix32((seed >>> 0) ^ Math.imul(hi, 0x27d4eb2d));
    const st = this.s;
    for (let i = 0; i < 4; i++) st[i] = mix();
    if ((st[0]! | st[1]! | st[2]! | st[3]!) === 0) st[0] = 1;
  }

  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  /** Next raw uint32. */
  nextUint32(): number {
    const st = this.s;
    const s0 = st[0]!;
    const s1 = st[1]!;
    const s2 = st[2]! ^ s0;
    const s3 = st[3]! ^ s1;
    st[0] = s0 ^ s3;
    st[1] = s1 ^ s2;
    st[2] = s2 ^ (s1 << 9);
    st[3] = rotl(s3, 11);
    return Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform double in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.random();
  }

  /** Normal deviate (Box-Muller; the second deviate is cached and part of the state). */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [low, high) (high exclusive, like numpy's `integers`). Unbiased. */
  integers(low: number, high: number): number {
    const range = high - low;
    if (!(range >= 1) || !Number.isInteger(range)) {
      throw new RangeError(`integers(low, high) needs integers with high > low, got low=${low}, high=${high}`);
    }
    if (range <= TWO_POW_32) {
      // Rejection on the top of the uint32 range removes modulo bias.
      const limit = TWO_POW_32 - (TWO_POW_32 % range);
      let x = this.nextUint32();
      while (x >= limit) x = this.nextUint32();
      return low + (x % range);
    }
    return low + Math.floor(this.random() * range);
  }

  /** One element of `items`, uniformly. */
  choice<T>(items: ArrayLike<T>): T {
    if (items.length === 0) throw new RangeError("choice() needs a non-empty array");
    return items[this.integers(0, items.length)]!;
  }

  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.integers(0, i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** Fill `out` with uniform [0, 1) floats. */
  fillUniform<T extends Float32Array | Float64Array>(out: T, low = 0, high = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = low + (high - low) * this.random();
    return out;
  }

  /** Fill `out` with normal deviates. */
  fillNormal<T extends Float32Array | Float64Array>(out: T, mean = 0, std = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** A new generator whose stream is independent of this one (consumes two draws). */
  spawn(): Rng {
    return new Rng(this.nextUint32() * 2097152 + (this.nextUint32() >>> 11));
  }

  state(): RngState {
    const st = this.s;
    return { s: [st[0]! >>> 0, st[1]! >>> 0, st[2]! >>> 0, st[3]! >>> 0], spareNormal: this.spare };
  }

  setState(state: RngState): void {
    const s = state?.s;
    if (!Array.isArray(s) || s.length !== 4 || s.some((w) => !Number.isInteger(w) || w < 0 || w >= TWO_POW_32)) {
      throw new RangeError(`Rng state must have s: four uint32 words, got ${JSON.stringify(state)}`);
    }
    this.s.set(s);
    this.spare = state.spareNormal ?? null;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
