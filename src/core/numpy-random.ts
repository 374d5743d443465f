/**
 * A bit-exact port of numpy's default generator, `np.random.default_rng(seed)`:
 * `Generator(PCG64(SeedSequence(seed)))`. Gymnasium seeds its environments with exactly this
 * (`gymnasium.utils.seeding.np_random`), so environments that must reproduce Gymnasium's
 * episodes draw from this class instead of the project's faster `Rng`.
 *
 * The 128-bit PCG state is kept as eight 16-bit limbs in plain numbers: every partial product
 * of the limb multiplication stays below 2^53, so the LCG step needs no BigInt on the hot path.
 */

// SeedSequence constants (numpy/random/bit_generator.pyx).
const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;
const XSHIFT = 16;
const POOL_SIZE = 4;

const TWO_POW_32 = 4294967296;
const TWO_POW_53_INV = 1 / 9007199254740992;
const MASK_128 = (1n << 128n) - 1n;
const MASK_64 = (1n << 64n) - 1n;

/** PCG64's default multiplier 2549297995355413924 * 2^64 + 4865540595714422341, as 16-bit limbs (low first). */
const PCG_MULT = toLimbs((2549297995355413924n << 64n) + 4865540595714422341n);

/** Serialisable generator state (plain JSON; 128-bit words as decimal strings). */
export interface NumpyGeneratorState {
  bitGenerator: "PCG64";
  state: string;
  inc: string;
  /** numpy's buffered half of a uint64 for 32-bit draws (`has_uint32` / `uinteger`). */
  hasUint32: boolean;
  uinteger: number;
}

function u32(x: number): number {
  return x >>> 0;
}

function hashmix(value: number, hashConst: { v: number }): number {
  value = u32(value ^ hashConst.v);
  hashConst.v = u32(Math.imul(hashConst.v, MULT_A));
  value = u32(Math.imul(value, hashConst.v));
  return u32(value ^ (value >>> XSHIFT));
}

function mix(x: number, y: number): number {
  const r = u32(Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y));
  return u32(r ^ (r >>> XSHIFT));
}

/** numpy's `_int_to_uint32_array`: little-endian 32-bit words of a non-negative integer ([0] for 0). */
function entropyWords(seed: number): number[] {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`numpy seed must be a non-negative safe integer, got ${seed}`);
  }
  const words: number[] = [];
  let n = seed;
  if (n === 0) words.push(0);
  while (n > 0) {
    words.push(n % TWO_POW_32);
    n = Math.floor(n / TWO_POW_32);
  }
  return words;
}

/** `SeedSequence(seed).pool`: the four mixed entropy words. */
export function seedSequencePool(seed: number): Uint32Array {
  const entropy = entropyWords(seed);
  const pool = new Uint32Array(POOL_SIZE);
  const hc = { v: INIT_A };
  for (let i = 0; i < POOL_SIZE; i++) pool[i] = hashmix(i < entropy.length ? entropy[i]! : 0, hc);
  for (let src = 0; src < POOL_SIZE; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) {
      if (src !== dst) pool[dst] = mix(pool[dst]!, hashmix(pool[src]!, hc));
    }
  }
  for (let src = POOL_SIZE; src < entropy.length; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) pool[dst] = mix(pool[dst]!, hashmix(entropy[src]!, hc));
  }
  return pool;
}

/** `SeedSequence(seed).generate_state(nWords, np.uint32)`. */
export function seedSequenceGenerateState(seed: number, nWords: number): Uint32Array {
  const pool = seedSequencePool(seed);
  const out = new Uint32Array(nWords);
  let hashConst = INIT_B;
  for (let i = 0; i < nWords; i++) {
    let v = u32(pool[i % POOL_SIZE]! ^ hashConst);
    hashConst = u32(Math.imul(hashConst, MULT_B));
    v = u32(Math.imul(v, hashConst));
    out[i] = u32(v ^ (v >>> XSHIFT));
  }
  return out;
}

function toLimbs(x: bigint): number[] {
  const limbs: number[] = [];
  for (let i = 0; i < 8; i++) limbs.push(Number((x >> BigInt(16 * i)) & 0xffffn));
  return limbs;
}

function fromLimbs(limbs: ArrayLike<number>): bigint {
  let x = 0n;
  for (let i = 7; i >= 0; i--) x = (x << 16n) | BigInt(limbs[i]!);
  return x;
}

export class NumpyGenerator {
  /** 128-bit LCG state and increment, 16-bit limbs, least significant first. */
  private readonly s = new Float64Array(8);
  private readonly inc = new Float64Array(8);
  private readonly tmp = new Float64Array(8);
  private hasUint32 = false;
  private uinteger = 0;
  /** The two 32-bit halves of the last 64-bit output (set by `next64`). */
  private outHi = 0;
  private outLo = 0;

  private constructor() {}

  /** `np.random.default_rng(seed)` (= Gymnasium's `np_random(seed)`). */
  static fromSeed(seed: number): NumpyGenerator {
    const w = seedSequenceGenerateState(seed, 8);
    // generate_state(4, uint64) views the 8 uint32 words as little-endian uint64 pairs.
    const word64 = (i: number) => (BigInt(w[2 * i + 1]!) << 32n) | BigInt(w[2 * i]!);
    // pcg64_set_seed: initstate = (val[0] << 64) | val[1], initseq = (val[2] << 64) | val[3].
    const initState = (word64(0) << 64n) | word64(1);
    const initSeq = (word64(2) << 64n) | word64(3);
    const g = new NumpyGenerator();
    // pcg_setseq_128_srandom_r: state = 0; inc = initseq << 1 | 1; step; state += initstate; step.
    g.setLimbs(g.inc, ((initSeq << 1n) | 1n) & MASK_128);
    g.setLimbs(g.s, 0n);
    g.step();
    g.setLimbs(g.s, (fromLimbs(g.s) + initState) & MASK_128);
    g.step();
    return g;
  }

  static fromState(state: NumpyGeneratorState): NumpyGenerator {
    const g = new NumpyGenerator();
    g.setState(state);
    return g;
  }

  private setLimbs(target: Float64Array, x: bigint): void {
    const limbs = toLimbs(x);
    for (let i = 0; i < 8; i++) target[i] = limbs[i]!;
  }

  /** state = state * MULT + inc (mod 2^128). */
  private step(): void {
    const s = this.s;
    const t = this.tmp;
    let carry = 0;
    for (let k = 0; k < 8; k++) {
      let acc = carry + this.inc[k]!;
      for (let i = 0; i <= k; i++) acc += s[i]! * PCG_MULT[k - i]!;
      carry = Math.floor(acc / 65536);
      t[k] = acc - carry * 65536;
    }
    s.set(t);
  }

  /** Advances and leaves the XSL-RR output in outHi/outLo. */
  private next64(): void {
    this.step();
    const s = this.s;
    // XSL: high 64 bits xor low 64 bits.
    let lo = u32((s[0]! | (s[1]! << 16)) ^ (s[4]! | (s[5]! << 16)));
    let hi = u32((s[2]! | (s[3]! << 16)) ^ (s[6]! | (s[7]! << 16)));
    // RR: rotate right by the top 6 bits of the state.
    let rot = s[7]! >>> 10;
    if (rot >= 32) {
      const x = lo;
      lo = hi;
      hi = x;
      rot -= 32;
    }
    if (rot > 0) {
      const nlo = u32((lo >>> rot) | (hi << (32 - rot)));
      hi = u32((hi >>> rot) | (lo << (32 - rot)));
      lo = nlo;
    }
    this.outHi = hi;
    this.outLo = lo;
  }

  /** Next raw 64-bit output (`bit_generator.random_raw()`). */
  nextUint64(): bigint {
    this.next64();
    return (BigInt(this.outHi) << 32n) | BigInt(this.outLo);
  }

  /** numpy's buffered `next_uint32`: low half of a fresh uint64 first, its high half on the next call. */
  nextUint32(): number {
    if (this.hasUint32) {
      this.hasUint32 = false;
      return this.uinteger;
    }
    this.next64();
    this.hasUint32 = true;
    this.uinteger = this.outHi;
    return this.outLo;
  }

  /** Uniform double in [0, 1): `(next_uint64 >> 11) * 2^-53`. */
  random(): number {
    this.next64();
    return (this.outHi * 2097152 + (this.outLo >>> 11)) * TWO_POW_53_INV;
  }

  /** `Generator.uniform(low, high)` for scalars: `low + (high - low) * random()`. */
  uniform(low = 0, high = 1): number {
    const range = high - low;
    if (!Number.isFinite(range)) throw new RangeError(`uniform: high - low must be finite, got low=${low}, high=${high}`);
    return low + range * this.random();
  }

  /** `Generator.uniform(low, high, size=n)`. */
  uniformArray(low: number, high: number, n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(low, high);
    return out;
  }

  /**
   * `Generator.integers(low, high)` (int64, high exclusive), drawing exactly as numpy does:
   * ranges below 2^32 use Lemire's method on the buffered 32-bit stream, larger ones on 64-bit draws.
   */
  integers(low: number, high: number): number {
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || high <= low) {
      throw new RangeError(`integers(low, high) needs safe integers with high > low, got low=${low}, high=${high}`);
    }
    const rng = high - 1 - low; // numpy's inclusive range
    if (rng === 0) return low;
    if (rng < 0xffffffff) return low + this.lemire32(rng);
    if (rng === 0xffffffff) return low + this.nextUint32();
    return low + Number(this.lemire64(BigInt(rng)));
  }

  private lemire32(rng: number): number {
    const rngExcl = rng + 1;
    let [mHi, leftover] = mul32(this.nextUint32(), rngExcl);
    if (leftover < rngExcl) {
      const threshold = (0xffffffff - rng) % rngExcl;
      while (leftover < threshold) [mHi, leftover] = mul32(this.nextUint32(), rngExcl);
    }
    return mHi;
  }

  private lemire64(rng: bigint): bigint {
    const rngExcl = rng + 1n;
    let m = this.nextUint64() * rngExcl;
    let leftover = m & MASK_64;
    if (leftover < rngExcl) {
      const threshold = (MASK_64 - rng) % rngExcl;
      while (leftover < threshold) {
        m = this.nextUint64() * rngExcl;
        leftover = m & MASK_64;
      }
    }
    return m >> 64n;
  }

  state(): NumpyGeneratorState {
    return {
      bitGenerator: "PCG64",
      state: fromLimbs(this.s).toString(),
      inc: fromLimbs(this.inc).toString(),
      hasUint32: this.hasUint32,
      uinteger: this.uinteger,
    };
  }

  setState(state: NumpyGeneratorState): void {
    const parse = (v: unknown, name: string): bigint => {
      if (typeof v !== "string" || !/^\d+$/.test(v) || BigInt(v) > MASK_128) {
        throw new RangeError(`NumpyGenerator state.${name} must be a decimal 128-bit unsigned integer string, got ${JSON.stringify(v)}`);
      }
      return BigInt(v);
    };
    if (state?.bitGenerator !== "PCG64") {
      throw new RangeError(`NumpyGenerator state.bitGenerator must be "PCG64", got ${JSON.stringify(state?.bitGenerator)}`);
    }
    const s = parse(state.state, "state");
    const inc = parse(state.inc, "inc");
    if ((inc & 1n) === 0n) throw new RangeError(`NumpyGenerator state.inc must be odd, got ${state.inc}`);
    if (typeof state.hasUint32 !== "boolean" || !Number.isInteger(state.uinteger) || state.uinteger < 0 || state.uinteger >= TWO_POW_32) {
      throw new RangeError(`NumpyGenerator state needs hasUint32: boolean and uinteger: uint32, got ${JSON.stringify(state)}`);
    }
    this.setLimbs(this.s, s);
    this.setLimbs(this.inc, inc);
    this.hasUint32 = state.hasUint32;
    this.uinteger = state.uinteger;
  }
}

/** Exact 32x32 → 64-bit product as [high 32 bits, low 32 bits]. */
function mul32(a: number, b: number): [number, number] {
  const aHi = a >>> 16;
  const aLo = a & 0xffff;
  const lowPart = aLo * b; // < 2^48, exact
  const highPart = aHi * b; // < 2^48, exact; weight 2^16
  const lowWord = lowPart % TWO_POW_32;
  // total = highPart * 2^16 + lowPart; split without exceeding 2^53.
  const mid = (highPart % 65536) * 65536 + lowWord; // < 2^33
  const lo = mid % TWO_POW_32;
  const hi = Math.floor(highPart / 65536) + Math.floor(lowPart / TWO_POW_32) + Math.floor(mid / TWO_POW_32);
  return [hi, lo];
}
