/**
 * qttdm's kernels for the wasm backend (tfjs-backend-wasm 4.22, SIMD, one thread): `BatchMatMul`,
 * `_FusedMatMul`, `Transpose` and `Identity` replaced, and the fused kernels of nets/fused.ts added.
 *
 * Why: the stock `BatchMatMul` (`batch_mat_mul_impl.cc`) calls XNNPACK's fully-connected operator only for
 * `!transposeA && !transposeB` with both batch sizes 1; every other product (the backward pass's transposed
 * operands, rank-3 activations × 2-D weights, attention's batched products) runs a scalar triple loop at
 * 1–3 GFLOP/s. Routing them all to XNNPACK (materialised transposes, folded batch dims, one call per batch)
 * was measured first and gained little in a training step (W3 step 180 → 163 ms CPU): XNNPACK's operator packs
 * its right operand on every new tensor id at ~4 ns/element (0.55 ms for a [1024,128] gradient, about half of
 * the product itself when the left operand has 128 rows), and in a backward pass nearly every right operand is
 * new; the stock Transpose kernel ran 1–3.5 ns/element; one XNNPACK call per attention head cost ~3 µs.
 *
 * So the products run on small WebAssembly SIMD functions assembled here at load time (no toolchain, no
 * binary in the repository) and instantiated on the backend's own memory, reading and writing tensors in
 * place:
 * - `gemm`: C = A·B for row-major A [m,k], B [k,n] in 4×8 register tiles, batched with per-operand strides
 *   (0 broadcasts), k blocked so a B block stays in L2, B packed in 8-column panels for 48+ rows: 36–39
 *   GFLOP/s on the W1/W3 shapes against 32 for XNNPACK with cached weights. That is about the limit of
 *   128-bit SIMD without a fused multiply-add here (8 multiplies and 8 adds per 4×8 step).
 * - `transpose` / `transposeChunks`: a swap of two axis groups ([1024,128] 2-D: 408 → 49 µs; attention's head
 *   split [64,16,4,32] by [0,2,1,3]: 70 → 39 µs). Transposed matmul operands are materialised with it.
 * - `biasAct`: the fused epilogue, per-column bias then linear / relu / leakyrelu; relu6, sigmoid, elu and
 *   prelu run the stock element-wise kernels afterwards.
 * - nets/fused.ts's layer norm and its gradient, activation gradients and Adam step, each one or two passes
 *   where the composed tfjs ops make 10–20: W3 step 98.6 → 84.6 ms CPU (layer norm −7.5, Adam −4.4,
 *   activation gradients −1.6), W1 update 4.6 → 3.5 ms (Adam).
 * `Identity` shares its input's memory instead of copying it, as the cpu backend's does: tensors are
 * immutable, and the engine clones every tensor a gradient saves (W3 step −4 %).
 *
 * This relies on tfjs-backend-wasm 4.22 internals (the backend's `dataIdMap`, `incRef` and `makeOutput`, its
 * emscripten module's exported `memory`, `_malloc` and `HEAPF32`); `installWasmKernels` checks for them and
 * keeps the stock kernels when any is missing.
 */
import * as tf from "@tensorflow/tfjs";
import type { FusedKernel } from "../nets/fused.js";

// The WebAssembly JS API as used here (the project's `lib` setting has no WebAssembly declarations).
declare namespace WebAssembly {
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
}

// ----------------------------------------------------------------------------------------------------
// A minimal WebAssembly assembler: just what the kernels below need.

const I32 = 0x7f;
const F32 = 0x7d;
const F64 = 0x7c;
const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => vec([...Buffer.from(s)].map((c) => [c]));
/** i8x16.shuffle byte lanes selecting the 32-bit lanes `l` of (a, b) (b's lanes are 4–7). */
const lanes32 = (l: number[]) => l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]);

const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  else: [0x05],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  select: [0x1b],
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  f32Load: [0x2a, 2, 0],
  f32Store: [0x38, 2, 0],
  i32: (v: number) => [0x41, ...sleb(v)],
  f32: (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)],
  i32Eqz: [0x45],
  i32Eq: [0x46],
  i32GtS: [0x4a],
  i32GeS: [0x4e],
  f32Gt: [0x5e],
  f32Ge: [0x60],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32And: [0x71],
  i32Shl: [0x74],
  f32Abs: [0x8b],
  f32Nearest: [0x90],
  f32Sqrt: [0x91],
  f32Add: [0x92],
  f32Sub: [0x93],
  f32Mul: [0x94],
  f32Div: [0x95],
  f32Max: [0x97],
  f64Add: [0xa0],
  f64PromoteF32: [0xbb],
  f32ReinterpretI32: [0xbe],
  i32TruncSatF32S: [0xfc, 0x00],
  v128Load: (offset: number) => [0xfd, 0x00, 4, ...uleb(offset)],
  v128Load32Splat: [0xfd, 0x09, 2, 0],
  v128Store: (offset: number) => [0xfd, 0x0b, 4, ...uleb(offset)],
  v128Zero: [0xfd, 0x0c, ...new Array<number>(16).fill(0)],
  shuffle: (l: number[]) => [0xfd, 0x0d, ...lanes32(l)],
  i32x4Splat: [0xfd, 0x11],
  f32x4Splat: [0xfd, 0x13],
  f32x4ExtractLane: (lane: number) => [0xfd, 0x1f, lane],
  f32x4Gt: [0xfd, 0x44],
  f32x4Ge: [0xfd, 0x46],
  v128And: [0xfd, 0x4e],
  v128Bitselect: [0xfd, 0x52],
  f32x4Nearest: [0xfd, 0x6a],
  i32x4Shl: [0xfd, 0xab, 0x01],
  i32x4Add: [0xfd, 0xae, 0x01],
  f32x4Abs: [0xfd, 0xe0, 0x01],
  f32x4Sqrt: [0xfd, 0xe3, 0x01],
  f32x4Add: [0xfd, 0xe4, 0x01],
  f32x4Sub: [0xfd, 0xe5, 0x01],
  f32x4Mul: [0xfd, 0xe6, 0x01],
  f32x4Div: [0xfd, 0xe7, 0x01],
  f32x4Max: [0xfd, 0xe9, 0x01],
  i32x4TruncSatF32x4S: [0xfd, 0xf8, 0x01],
};

/** The arithmetic of an element-wise loop body: on 4 lanes (v128) or on one element (f32). */
interface Lanes {
  width: number;
  load: number[];
  store: number[];
  add: number[];
  sub: number[];
  mul: number[];
  div: number[];
  sqrt: number[];
  max: number[];
  abs: number[];
  /** x >= y: an all-ones lane mask (vector) or an i32 0/1 (scalar). */
  ge: number[];
  /** A constant: a v128 local splatted in the prologue, or an f32 immediate. */
  k(c: number): number[];
  /** An f32 local as these lanes see it: its splat (made by `Fn.splat` before the loop), or itself. */
  v(f32: number): number[];
  /** The i-th temporary local of these lanes' type. */
  tmp(i: number): number;
}

/** One function under construction: parameters are locals 0…, `local()` adds more. */
class Fn {
  readonly locals: number[] = [];
  /** Code run first: splats of the constants that `Lanes.k` hands out inside loops. */
  readonly prologue: number[] = [];
  readonly code: number[] = [];
  private readonly consts = new Map<number, number>();
  private readonly splats = new Map<number, number>();
  private readonly temps: Record<number, number[]> = { [V128]: [], [F32]: [] };
  private sumAcc: number | undefined;
  readonly vector: Lanes;
  readonly scalar: Lanes;

  constructor(readonly exportName: string, readonly params: number[], readonly results: number[] = []) {
    const tmp = (type: number) => (i: number) => (this.temps[type]![i] ??= this.local(type));
    this.vector = {
      width: 4,
      load: op.v128Load(0),
      store: op.v128Store(0),
      add: op.f32x4Add,
      sub: op.f32x4Sub,
      mul: op.f32x4Mul,
      div: op.f32x4Div,
      sqrt: op.f32x4Sqrt,
      max: op.f32x4Max,
      abs: op.f32x4Abs,
      ge: op.f32x4Ge,
      k: (c) => {
        let l = this.consts.get(c);
        if (l === undefined) {
          l = this.local(V128);
          this.consts.set(c, l);
          this.prologue.push(...op.f32(c), ...op.f32x4Splat, ...op.set(l));
        }
        return op.get(l);
      },
      v: (f32) => op.get(this.splats.get(f32)!),
      tmp: tmp(V128),
    };
    this.scalar = {
      width: 1,
      load: op.f32Load,
      store: op.f32Store,
      add: op.f32Add,
      sub: op.f32Sub,
      mul: op.f32Mul,
      div: op.f32Div,
      sqrt: op.f32Sqrt,
      max: op.f32Max,
      abs: op.f32Abs,
      ge: op.f32Ge,
      k: (c) => op.f32(c),
      v: (f32) => op.get(f32),
      tmp: tmp(F32),
    };
  }
  local(type: number): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }
  emit(...parts: number[][]): void {
    for (const p of parts) this.code.push(...p);
  }
  /** for (v = start; v < end; v += step) body — `start` and `end` are code producing an i32. */
  for(v: number, start: number[], end: number[], step: number, body: () => void): void {
    this.emit(start, op.set(v), op.block, op.loop, op.get(v), end, op.i32GeS, op.brIf(1));
    body();
    this.emit(op.get(v), op.i32(step), op.i32Add, op.set(v), op.br(0), op.end, op.end);
  }
  /** for (v = 0; v + step <= end; v += step) body */
  forFull(v: number, end: number[], step: number, body: () => void): void {
    this.emit(op.i32(0), op.set(v), op.block, op.loop, op.get(v), op.i32(step), op.i32Add, end, op.i32GtS, op.brIf(1));
    body();
    this.emit(op.get(v), op.i32(step), op.i32Add, op.set(v), op.br(0), op.end, op.end);
  }
  /** while (counter != 0) { body; counter -= 1 } on an i32 local or parameter. */
  countDown(counter: number, body: () => void): void {
    this.emit(op.block, op.loop, op.get(counter), op.i32Eqz, op.brIf(1));
    body();
    this.emit(op.get(counter), op.i32(1), op.i32Sub, op.set(counter), op.br(0), op.end, op.end);
  }
  /** Element-wise: body(vector) for j = 0, 4, … while 4 elements are left, then body(scalar) for the rest. */
  lanes(j: number, end: number[], body: (l: Lanes) => void): void {
    this.forFull(j, end, 4, () => body(this.vector));
    this.for(j, op.get(j), end, 1, () => body(this.scalar));
  }
  /** into (f32) = Σ_j term(j) for j < end, `term` leaving one value of the lanes' type. */
  sum(into: number, j: number, end: number[], term: (l: Lanes) => number[]): void {
    const acc = (this.sumAcc ??= this.local(V128));
    this.emit(op.v128Zero, op.set(acc));
    this.forFull(j, end, 4, () => this.emit(op.get(acc), term(this.vector), op.f32x4Add, op.set(acc)));
    this.emit(hsum(acc), op.set(into));
    this.for(j, op.get(j), end, 1, () => this.emit(op.get(into), term(this.scalar), op.f32Add, op.set(into)));
  }
  /** Splat the f32 local `f32` into the v128 that `vector.v(f32)` reads (call after each change of it). */
  splat(f32: number): void {
    let l = this.splats.get(f32);
    if (l === undefined) {
      l = this.local(V128);
      this.splats.set(f32, l);
    }
    this.emit(op.get(f32), op.f32x4Splat, op.set(l));
  }
}

/** &base[j] for a float array at byte offset `base`. */
const at = (base: number, j: number) => [op.get(base), op.get(j), op.i32(2), op.i32Shl, op.i32Add].flat();
/** The sum of a v128 local's four lanes. */
const hsum = (v: number) =>
  [op.get(v), op.f32x4ExtractLane(0), op.get(v), op.f32x4ExtractLane(1), op.f32Add, op.get(v), op.f32x4ExtractLane(2), op.f32Add, op.get(v), op.f32x4ExtractLane(3), op.f32Add].flat();

/** A module importing `env.memory` and exporting `fns`. */
function assemble(fns: Fn[]): Uint8Array {
  const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
  const types = fns.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))]);
  const memoryImport = [...name("env"), ...name("memory"), 0x02, 0x00, 0x00];
  const bodies = fns.map((f) => {
    const b = [...vec(f.locals.map((t) => [1, t])), ...f.prologue, ...f.code, ...op.end];
    return [...uleb(b.length), ...b];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(2, vec([memoryImport])),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...section(7, vec(fns.map((f, i) => [...name(f.exportName), 0x00, ...uleb(i)]))),
    ...section(10, vec(bodies)),
  ]);
}

// ----------------------------------------------------------------------------------------------------
// The kernels. Pointers and strides are byte offsets into the backend's memory.

const MR = 4;
const NR = 8;

/**
 * gemm(a, lda, b, ldb, c, ldc, m, n, k, batch, sa, sb, sc, accumulate, bp):
 * for each of `batch` products (operands advanced by sa, sb, sc bytes), C[m,n] (+)= A[m,k]·B[k,n] with row
 * strides lda, ldb, ldc. Register tiles of MR×NR, then MR×4 and MR×1 for the last columns, then single rows.
 * 4×8 measured fastest of 2×16, 3×16, 4×12, 4×16, 5×8 and 6×8 (larger tiles spill), and unrolling k was slower.
 * With bp ≠ 0 the MR×NR tiles read B's first n − n % 8 columns from the panels `pack` wrote there.
 */
function gemmFn(): Fn {
  const f = new Fn("gemm", new Array<number>(15).fill(I32));
  const [a, lda, b, ldb, c, ldc, m, n, k, batch, sa, sb, sc, accumulate, bp] = f.params.map((_, i) => i);
  const i = f.local(I32);
  const j = f.local(I32);
  const kk = f.local(I32);
  const pb = f.local(I32);
  const bstep = f.local(I32);
  const pc = f.local(I32);
  const pr = Array.from({ length: MR }, () => f.local(I32));
  const acc = Array.from({ length: MR }, () => Array.from({ length: NR / 4 }, () => f.local(V128)));
  const bv = Array.from({ length: NR / 4 }, () => f.local(V128));
  const av = f.local(V128);
  const sacc = Array.from({ length: MR }, () => f.local(F32));
  const sbv = f.local(F32);
  const sav = f.local(F32);
  const { get, set } = op;

  const tile = (rows: number, cols: number) => {
    const simd = cols >= 4;
    const nv = simd ? cols / 4 : 1;
    const accOf = (r: number, v: number) => (simd ? acc[r]![v]! : sacc[r]!);
    const load = (v: number) => (simd ? op.v128Load(16 * v) : op.f32Load);
    const store = (v: number) => (simd ? op.v128Store(16 * v) : op.f32Store);
    // pc = &C[i, j]
    f.emit(get(c), get(i), get(ldc), op.i32Mul, op.i32Add, get(j), op.i32(2), op.i32Shl, op.i32Add, set(pc));
    f.emit(get(accumulate), op.if);
    for (let r = 0; r < rows; r++) for (let v = 0; v < nv; v++) f.emit(get(pc), get(ldc), op.i32(r), op.i32Mul, op.i32Add, load(v), set(accOf(r, v)));
    f.emit(op.else);
    for (let r = 0; r < rows; r++) for (let v = 0; v < nv; v++) f.emit(simd ? op.v128Zero : op.f32(0), set(accOf(r, v)));
    f.emit(op.end);
    // pr[r] = &A[i + r, 0], pb = &B[0, j]
    f.emit(get(a), get(i), get(lda), op.i32Mul, op.i32Add, set(pr[0]!));
    for (let r = 1; r < rows; r++) f.emit(get(pr[r - 1]!), get(lda), op.i32Add, set(pr[r]!));
    const inPlace = [...get(b), ...get(j), ...op.i32(2), ...op.i32Shl, ...op.i32Add, ...set(pb), ...get(ldb), ...set(bstep)];
    // Packed panels (see `pack`): columns j…j+7 at bp + j·4·k, a row every 32 bytes.
    if (cols === NR) f.emit(get(bp), op.if, get(bp), get(j), get(k), op.i32Mul, op.i32(2), op.i32Shl, op.i32Add, set(pb), op.i32(32), set(bstep), op.else, inPlace, op.end);
    else f.emit(inPlace);
    f.emit(get(k), set(kk), op.loop);
    for (let v = 0; v < nv; v++) f.emit(get(pb), load(v), set(simd ? bv[v]! : sbv));
    for (let r = 0; r < rows; r++) {
      f.emit(get(pr[r]!), simd ? op.v128Load32Splat : op.f32Load, set(simd ? av : sav));
      for (let v = 0; v < nv; v++) {
        if (simd) f.emit(get(accOf(r, v)), get(av), get(bv[v]!), op.f32x4Mul, op.f32x4Add, set(accOf(r, v)));
        else f.emit(get(accOf(r, v)), get(sav), get(sbv), op.f32Mul, op.f32Add, set(accOf(r, v)));
      }
      f.emit(get(pr[r]!), op.i32(4), op.i32Add, set(pr[r]!));
    }
    f.emit(get(pb), get(bstep), op.i32Add, set(pb));
    f.emit(get(kk), op.i32(1), op.i32Sub, op.tee(kk), op.brIf(0), op.end);
    for (let r = 0; r < rows; r++) for (let v = 0; v < nv; v++) f.emit(get(pc), get(ldc), op.i32(r), op.i32Mul, op.i32Add, get(accOf(r, v)), store(v));
  };

  const rowBlock = (rows: number) => {
    f.forFull(j, get(n), NR, () => tile(rows, NR));
    // At most NR − 1 columns are left: one 4-wide tile at most, then single columns.
    f.emit(get(j), op.i32(4), op.i32Add, get(n), op.i32GtS, op.i32Eqz, op.if);
    tile(rows, 4);
    f.emit(get(j), op.i32(4), op.i32Add, set(j), op.end);
    f.for(j, get(j), get(n), 1, () => tile(rows, 1));
  };

  f.countDown(batch, () => {
    f.forFull(i, get(m), MR, () => rowBlock(MR));
    f.for(i, get(i), get(m), 1, () => rowBlock(1));
    f.emit(get(a), get(sa), op.i32Add, set(a), get(b), get(sb), op.i32Add, set(b), get(c), get(sc), op.i32Add, set(c));
  });
  return f;
}

/**
 * pack(b, ldb, bp, k, panels): B's columns in panels of 8, bp[p][r][0…7] = B[r][8p…8p+7] for r < k, so the
 * gemm tiles read B sequentially: rows of B 512 B–2 KB apart fall in a few L1 sets and miss (+5 % on
 * [1024,128]×[128,128], [128,256]×[256,256] and k-blocked [128,1024]×[1024,512]).
 */
function packFn(): Fn {
  const f = new Fn("pack", [I32, I32, I32, I32, I32]);
  const [b, ldb, bp, k, panels] = [0, 1, 2, 3, 4];
  const [src, r] = [f.local(I32), f.local(I32)];
  const { get, set } = op;
  f.countDown(panels, () => {
    f.emit(get(b), set(src));
    f.for(r, op.i32(0), get(k), 1, () => {
      f.emit(get(bp), get(src), op.v128Load(0), op.v128Store(0), get(bp), get(src), op.v128Load(16), op.v128Store(16));
      f.emit(get(bp), op.i32(32), op.i32Add, set(bp), get(src), get(ldb), op.i32Add, set(src));
    });
    f.emit(get(b), op.i32(32), op.i32Add, set(b));
  });
  return f;
}

/**
 * transpose(x, y, rows, cols, batch): y[q, s, r] = x[q, r, s] for `batch` contiguous rows×cols matrices, in
 * 64×64 tiles of 4×4 SIMD blocks; the last rows%4 rows and cols%4 columns go one element at a time. Within a
 * tile the blocks run down the input's columns, so each group of 4 output rows is written a whole cache line
 * at a time: across the rows (output rows 4 KB apart for 1024 rows, all in one L1 set) it measured 3.7× slower
 * ([1024,128]: 107 against 29 µs).
 */
function transposeFn(): Fn {
  const TILE = 64;
  const f = new Fn("transpose", [I32, I32, I32, I32, I32]);
  const [x, y, rows, cols, batch] = [0, 1, 2, 3, 4];
  const [rb, cb, r, c, rEnd, cEnd, rows4, cols4, p, q] = Array.from({ length: 10 }, () => f.local(I32));
  const xv = Array.from({ length: 4 }, () => f.local(V128));
  const t = Array.from({ length: 4 }, () => f.local(V128));
  const { get, set } = op;
  // addr(base, i, ld, j) = base + (i·ld + j)·4
  const addr = (base: number, i: number, ld: number, j: number) => [get(base), get(i), get(ld), op.i32Mul, get(j), op.i32Add, op.i32(2), op.i32Shl, op.i32Add].flat();
  const minInto = (dst: number, from: number, bound: number) =>
    f.emit(get(from), op.i32(TILE), op.i32Add, set(dst), get(dst), get(bound), op.i32GtS, op.if, get(bound), set(dst), op.end);

  f.emit(get(rows), op.i32(-4), op.i32And, set(rows4), get(cols), op.i32(-4), op.i32And, set(cols4));
  f.countDown(batch, () => {
    f.for(rb, op.i32(0), get(rows4), TILE, () => {
      minInto(rEnd, rb, rows4);
      f.for(cb, op.i32(0), get(cols4), TILE, () => {
        minInto(cEnd, cb, cols4);
        f.for(c, get(cb), get(cEnd), 4, () => {
          f.for(r, get(rb), get(rEnd), 4, () => {
            f.emit(addr(x, r, cols, c), set(p));
            for (let s = 0; s < 4; s++) f.emit(get(p), get(cols), op.i32(4 * s), op.i32Mul, op.i32Add, op.v128Load(0), set(xv[s]!));
            f.emit(get(xv[0]!), get(xv[1]!), op.shuffle([0, 4, 1, 5]), set(t[0]!));
            f.emit(get(xv[0]!), get(xv[1]!), op.shuffle([2, 6, 3, 7]), set(t[1]!));
            f.emit(get(xv[2]!), get(xv[3]!), op.shuffle([0, 4, 1, 5]), set(t[2]!));
            f.emit(get(xv[2]!), get(xv[3]!), op.shuffle([2, 6, 3, 7]), set(t[3]!));
            f.emit(addr(y, c, rows, r), set(q));
            const outs: [number, number, number[]][] = [[0, 2, [0, 1, 4, 5]], [0, 2, [2, 3, 6, 7]], [1, 3, [0, 1, 4, 5]], [1, 3, [2, 3, 6, 7]]];
            outs.forEach(([u, w, l], s) => f.emit(get(q), get(rows), op.i32(4 * s), op.i32Mul, op.i32Add, get(t[u]!), get(t[w]!), op.shuffle(l), op.v128Store(0)));
          });
        });
      });
    });
    const scalar = (r0: number[], r1: number[], c0: number[], c1: number[]) =>
      f.for(r, r0, r1, 1, () => f.for(c, c0, c1, 1, () => f.emit(addr(y, c, rows, r), addr(x, r, cols, c), op.f32Load, op.f32Store)));
    scalar(get(rows4), get(rows), op.i32(0), get(cols));
    scalar(op.i32(0), get(rows4), get(cols4), get(cols));
    f.emit(get(rows), get(cols), op.i32Mul, op.i32(2), op.i32Shl, set(p));
    f.emit(get(x), get(p), op.i32Add, set(x), get(y), get(p), op.i32Add, set(y));
  });
  return f;
}

/**
 * transposeChunks(x, y, rows, cols, e, batch): y[q, s, r, :] = x[q, r, s, :] for chunks of e floats (e > 1),
 * copied a vector at a time when e is a multiple of 4.
 */
function transposeChunksFn(): Fn {
  const f = new Fn("transposeChunks", [I32, I32, I32, I32, I32, I32]);
  const [x, y, rows, cols, e, batch] = [0, 1, 2, 3, 4, 5];
  const [r, c, o, src, dst, bytes] = Array.from({ length: 6 }, () => f.local(I32));
  const { get, set } = op;
  const chunkAt = (base: number, i: number, ld: number, j: number) => [get(base), get(i), get(ld), op.i32Mul, get(j), op.i32Add, get(bytes), op.i32Mul, op.i32Add].flat();
  f.emit(get(e), op.i32(2), op.i32Shl, set(bytes));
  f.countDown(batch, () => {
    f.for(r, op.i32(0), get(rows), 1, () => {
      f.for(c, op.i32(0), get(cols), 1, () => {
        f.emit(chunkAt(x, r, cols, c), set(src), chunkAt(y, c, rows, r), set(dst));
        f.emit(get(e), op.i32(3), op.i32And, op.i32Eqz, op.if);
        f.for(o, op.i32(0), get(bytes), 16, () => f.emit(get(dst), get(o), op.i32Add, get(src), get(o), op.i32Add, op.v128Load(0), op.v128Store(0)));
        f.emit(op.else);
        f.for(o, op.i32(0), get(bytes), 4, () => f.emit(get(dst), get(o), op.i32Add, get(src), get(o), op.i32Add, op.f32Load, op.f32Store));
        f.emit(op.end);
      });
    });
    f.emit(get(rows), get(cols), op.i32Mul, get(bytes), op.i32Mul, set(o));
    f.emit(get(x), get(o), op.i32Add, set(x), get(y), get(o), op.i32Add, set(y));
  });
  return f;
}

/** biasAct(c, rows, n, bias, act, alpha): C[r, j] = act(C[r, j] + bias[j]); bias 0 for none; act 0 linear, 1 relu, 2 leakyrelu. */
function biasActFn(): Fn {
  const f = new Fn("biasAct", [I32, I32, I32, I32, I32, F32]);
  const [c, rows, n, bias, act, alpha] = [0, 1, 2, 3, 4, 5];
  const j = f.local(I32);
  const v = f.local(V128);
  const x = f.local(F32);
  const alphas = f.local(V128);
  const { get, set } = op;
  const biasAt = [get(bias), get(j), op.i32(2), op.i32Shl, op.i32Add].flat();
  f.emit(get(alpha), op.f32x4Splat, set(alphas));
  f.countDown(rows, () => {
    f.forFull(j, get(n), 4, () => {
      f.emit(get(c), op.v128Load(0), set(v));
      f.emit(get(bias), op.if, get(v), biasAt, op.v128Load(0), op.f32x4Add, set(v), op.end);
      f.emit(get(act), op.i32(1), op.i32Eq, op.if, get(v), op.v128Zero, op.f32x4Max, set(v), op.end);
      f.emit(get(act), op.i32(2), op.i32Eq, op.if, get(v), get(v), get(alphas), op.f32x4Mul, get(v), op.v128Zero, op.f32x4Gt, op.v128Bitselect, set(v), op.end);
      f.emit(get(c), get(v), op.v128Store(0), get(c), op.i32(16), op.i32Add, set(c));
    });
    f.for(j, get(j), get(n), 1, () => {
      f.emit(get(c), op.f32Load, set(x));
      f.emit(get(bias), op.if, get(x), biasAt, op.f32Load, op.f32Add, set(x), op.end);
      f.emit(get(act), op.i32(1), op.i32Eq, op.if, get(x), op.f32(0), op.f32Max, set(x), op.end);
      f.emit(get(act), op.i32(2), op.i32Eq, op.if, get(x), get(x), get(alpha), op.f32Mul, get(x), op.f32(0), op.f32Gt, op.select, set(x), op.end);
      f.emit(get(c), get(x), op.f32Store, get(c), op.i32(4), op.i32Add, set(c));
    });
  });
  return f;
}

// The kernels of nets/fused.ts: one or two passes over memory where the composed tfjs ops make 10–20.

/**
 * layerNorm(x, gamma, beta, y, mean, rstd, n, d, eps, invD): each row of x [n, d] normalised as the composed
 * form in nets/ops.ts (two-pass mean and variance, rstd = 1/√(var + eps)); mean and rstd are [n].
 */
function layerNormFn(): Fn {
  const f = new Fn("layerNorm", [I32, I32, I32, I32, I32, I32, I32, I32, F32, F32]);
  const [x, gamma, beta, y, mean, rstd, n, d, eps, invD] = f.params.map((_, i) => i);
  const j = f.local(I32);
  const [sum, mu, r] = [f.local(F32), f.local(F32), f.local(F32)];
  const { get, set } = op;
  f.countDown(n, () => {
    f.sum(sum, j, get(d), (l) => [...at(x, j), ...l.load]);
    f.emit(get(sum), get(invD), op.f32Mul, set(mu));
    f.splat(mu);
    f.sum(sum, j, get(d), (l) => [...at(x, j), ...l.load, ...l.v(mu), ...l.sub, ...op.tee(l.tmp(0)), ...get(l.tmp(0)), ...l.mul]);
    f.emit(op.f32(1), get(sum), get(invD), op.f32Mul, get(eps), op.f32Add, op.f32Sqrt, op.f32Div, set(r));
    f.splat(r);
    f.lanes(j, get(d), (l) => f.emit(at(y, j), at(x, j), l.load, l.v(mu), l.sub, l.v(r), l.mul, at(gamma, j), l.load, l.mul, at(beta, j), l.load, l.add, l.store));
    f.emit(get(mean), get(mu), op.f32Store, get(rstd), get(r), op.f32Store);
    f.emit(get(mean), op.i32(4), op.i32Add, set(mean), get(rstd), op.i32(4), op.i32Add, set(rstd));
    f.emit(get(d), op.i32(2), op.i32Shl, set(j), get(x), get(j), op.i32Add, set(x), get(y), get(j), op.i32Add, set(y));
  });
  return f;
}

/**
 * layerNormGrad(dy, x, mean, rstd, gamma, dx, dgamma, dbeta, n, d, invD), dgamma and dbeta zeroed by the
 * caller: with x̂ = (x − mean)·rstd and g = dy·γ, dx = (g − mean(g) − x̂·mean(g·x̂))·rstd, dγ = Σ dy·x̂, dβ = Σ dy.
 */
function layerNormGradFn(): Fn {
  const f = new Fn("layerNormGrad", [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32]);
  const [dy, x, mean, rstd, gamma, dx, dgamma, dbeta, n, d, invD] = f.params.map((_, i) => i);
  const j = f.local(I32);
  const [mu, r, s1, s2] = [f.local(F32), f.local(F32), f.local(F32), f.local(F32)];
  const { get, set } = op;
  const xhat = (l: Lanes) => [...at(x, j), ...l.load, ...l.v(mu), ...l.sub, ...l.v(r), ...l.mul];
  const g = (l: Lanes) => [...at(dy, j), ...l.load, ...at(gamma, j), ...l.load, ...l.mul];
  f.countDown(n, () => {
    f.emit(get(mean), op.f32Load, set(mu), get(rstd), op.f32Load, set(r));
    f.splat(mu);
    f.splat(r);
    f.sum(s1, j, get(d), g);
    f.sum(s2, j, get(d), (l) => [...g(l), ...xhat(l), ...l.mul]);
    f.emit(get(s1), get(invD), op.f32Mul, set(s1), get(s2), get(invD), op.f32Mul, set(s2));
    f.splat(s1);
    f.splat(s2);
    f.lanes(j, get(d), (l) => {
      f.emit(xhat(l), set(l.tmp(0)));
      f.emit(at(dx, j), g(l), l.v(s1), l.sub, get(l.tmp(0)), l.v(s2), l.mul, l.sub, l.v(r), l.mul, l.store);
      f.emit(at(dgamma, j), at(dgamma, j), l.load, at(dy, j), l.load, get(l.tmp(0)), l.mul, l.add, l.store);
      f.emit(at(dbeta, j), at(dbeta, j), l.load, at(dy, j), l.load, l.add, l.store);
    });
    f.emit(get(mean), op.i32(4), op.i32Add, set(mean), get(rstd), op.i32(4), op.i32Add, set(rstd));
    f.emit(get(d), op.i32(2), op.i32Shl, set(j));
    for (const p of [dy, x, dx]) f.emit(get(p), get(j), op.i32Add, set(p));
  });
  return f;
}

/** Activation codes of `activationGrad`, in nets/fused.ts's names. */
const ACTIVATION_GRAD_CODES: Record<string, number> = { relu: 0, leaky_relu: 1, tanh: 2, gelu: 3 };
/** `activationGrad`'s code for GELU itself, z·Φ(z) (dy unused): the forward shares Φ's code with the gradient. */
const GELU_VALUE = 4;

/**
 * activationGrad(dy, y, out, n, act, slope): dL/dz from dL/dy. y is the activation's output, or its input z
 * for gelu, whose derivative Φ(z) + z·φ(z) uses the erf approximation of tfjs's Erf kernel (Abramowitz and
 * Stegun 7.1.26, |error| ≤ 1.5e-7) and exp(−z²/2) from 2ⁿ·p(r), p of degree 6 on |r| ≤ ln2/2. Code
 * GELU_VALUE computes z·Φ(z) instead.
 */
function activationGradFn(): Fn {
  const f = new Fn("activationGrad", [I32, I32, I32, I32, I32, F32]);
  const [dy, y, out, n, act, slope] = f.params.map((_, i) => i);
  const j = f.local(I32);
  const { get, set } = op;
  f.splat(slope);
  const loop = (code: number, body: (l: Lanes) => number[]) => {
    f.emit(get(act), op.i32(code), op.i32Eq, op.if);
    f.lanes(j, get(n), (l) => f.emit(at(out, j), body(l), l.store));
    f.emit(op.end);
  };
  const dyv = (l: Lanes) => [...at(dy, j), ...l.load];
  const yv = (l: Lanes) => [...at(y, j), ...l.load];
  // y > 0 ? a : b, with a and b already on the stack (vector: a bitselect on y > 0; scalar: select).
  const whereYPositive = (l: Lanes) => (l.width === 4 ? [...yv(l), ...op.v128Zero, ...op.f32x4Gt, ...op.v128Bitselect] : [...yv(l), ...op.f32(0), ...op.f32Gt, ...op.select]);
  const zero = (l: Lanes) => (l.width === 4 ? op.v128Zero : op.f32(0));
  loop(ACTIVATION_GRAD_CODES.relu!, (l) => [...dyv(l), ...zero(l), ...whereYPositive(l)]);
  loop(ACTIVATION_GRAD_CODES.leaky_relu!, (l) => [...dyv(l), ...dyv(l), ...l.v(slope), ...l.mul, ...whereYPositive(l)]);
  loop(ACTIVATION_GRAD_CODES.tanh!, (l) => [...dyv(l), ...l.k(1), ...yv(l), ...yv(l), ...l.mul, ...l.sub, ...l.mul]);
  // Φ(z) on the stack, with z and e = exp(−z²/2) in temporaries.
  const phi = (l: Lanes) => {
    const vector = l.width === 4;
    const [z, e, t, u] = [0, 1, 2, 3].map((i) => l.tmp(i));
    const code: number[] = [];
    const emit = (...parts: number[][]) => parts.forEach((p) => code.push(...p));
    // e = exp(u), u = max(−z²/2, −87): 2ⁿ·p(r) with n = nearest(u·log₂e), r = u − n·ln2 (ln2 in two parts).
    emit(yv(l), set(z), get(z), get(z), l.mul, l.k(-0.5), l.mul, l.k(-87), l.max, set(u));
    emit(get(u), l.k(Math.LOG2E), l.mul, vector ? op.f32x4Nearest : op.f32Nearest, set(t));
    emit(get(u), get(t), l.k(LN2_HI), l.mul, l.sub, get(t), l.k(LN2_LO), l.mul, l.sub, set(u));
    emit(l.k(1 / 720));
    for (const c of [1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1]) emit(get(u), l.mul, l.k(c), l.add);
    emit(get(t), vector ? op.i32x4TruncSatF32x4S : op.i32TruncSatF32S, op.i32(127), vector ? [...op.i32x4Splat, ...op.i32x4Add] : op.i32Add);
    emit(op.i32(23), vector ? op.i32x4Shl : [...op.i32Shl, ...op.f32ReinterpretI32], l.mul, set(e));
    // Φ(z) = ½(1 + erf(z/√2)); erf(x) = 1 − poly(t)·exp(−x²) for x ≥ 0, t = 1/(1 + p·x), and exp(−x²) = e.
    emit(l.k(1), l.k(1), get(z), vector ? op.f32x4Abs : op.f32Abs, l.k(ERF_P * Math.SQRT1_2), l.mul, l.add, l.div, set(t));
    emit(l.k(ERF_A[4]!));
    for (const a of [ERF_A[3]!, ERF_A[2]!, ERF_A[1]!, ERF_A[0]!]) emit(get(t), l.mul, l.k(a), l.add);
    emit(get(t), l.mul, get(e), l.mul, l.k(0.5), l.mul, set(u));
    emit(l.k(1), get(u), l.sub, get(u), get(z), vector ? [...op.v128Zero, ...op.f32x4Gt, ...op.v128Bitselect] : [...op.f32(0), ...op.f32Gt, ...op.select]);
    return { code, z, e };
  };
  // dy·(Φ(z) + z·φ(z))
  loop(ACTIVATION_GRAD_CODES.gelu!, (l) => {
    const { code, z, e } = phi(l);
    return [...code, ...get(z), ...get(e), ...l.mul, ...l.k(1 / Math.sqrt(2 * Math.PI)), ...l.mul, ...l.add, ...dyv(l), ...l.mul];
  });
  loop(GELU_VALUE, (l) => {
    const { code, z } = phi(l);
    return [...code, ...get(z), ...l.mul];
  });
  return f;
}

/** ln 2 as a float32 high part (exact products with small integers) and the rest. */
const LN2_HI = 0.693145751953125;
const LN2_LO = Math.LN2 - LN2_HI;
/** Abramowitz and Stegun 7.1.26, as tfjs's Erf kernel. */
const ERF_P = 0.3275911;
const ERF_A = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429];

/** sumSq(g, p, n, l2) → Σ (g + l2·p)² over n floats, in float32 blocks of 1024 added up in float64. */
function sumSqFn(): Fn {
  const f = new Fn("sumSq", [I32, I32, I32, F32], [F64]);
  const [g, p, n, l2] = [0, 1, 2, 3];
  const [i, j, end, n4] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const total = f.local(F64);
  const acc = f.local(V128);
  const { get, set } = op;
  f.splat(l2);
  const term = (l: Lanes) => [...at(g, j), ...l.load, ...at(p, j), ...l.load, ...l.v(l2), ...l.mul, ...l.add, ...op.tee(l.tmp(0)), ...get(l.tmp(0)), ...l.mul];
  f.emit(get(n), op.i32(-4), op.i32And, set(n4));
  f.for(i, op.i32(0), get(n4), 1024, () => {
    f.emit(get(i), op.i32(1024), op.i32Add, set(end), get(end), get(n4), op.i32GtS, op.if, get(n4), set(end), op.end);
    f.emit(op.v128Zero, set(acc));
    f.for(j, get(i), get(end), 4, () => f.emit(get(acc), term(f.vector), op.f32x4Add, set(acc)));
    f.emit(get(total), hsum(acc), op.f64PromoteF32, op.f64Add, set(total));
  });
  f.for(j, get(n4), get(n), 1, () => f.emit(get(total), term(f.scalar), op.f64PromoteF32, op.f64Add, set(total)));
  f.emit(get(total));
  return f;
}

/**
 * adam(g, p, m, v, pOut, mOut, vOut, n, coef, l2, b1, c1, b2, c2, lrc, ibc2, eps, decay): nets/optim.ts's rule
 * in its order of operations, on n floats: ĝ = (g + l2·p)·coef, m′ = b1·m + c1·ĝ, v′ = b2·v + c2·ĝ²,
 * p′ = decay·p − lrc·m′ / (√v′·ibc2 + eps). Moments below 2⁻¹²⁶ are stored as 0: the first moment of a
 * parameter whose gradient stays 0 decays by β1 per step into float32's subnormal range within ~800 steps,
 * where every operation on it is ~100× slower (W1's update after 1,500 steps: 8k of 138k moments subnormal,
 * Adam 0.91 ms against 0.14 ms); the step they would make is below 1e-30.
 */
function adamFn(): Fn {
  const f = new Fn("adam", [I32, I32, I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, F32, F32, F32]);
  const [g, p, m, v, pOut, mOut, vOut, n] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [coef, l2, b1, c1, b2, c2, lrc, ibc2, eps, decay] = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
  const j = f.local(I32);
  const { get, set } = op;
  for (const c of [coef, l2, b1, c1, b2, c2, lrc, ibc2, eps, decay]) f.splat(c);
  f.lanes(j, get(n), (l) => {
    const [gr, m2, v2] = [0, 1, 2].map((i) => l.tmp(i));
    f.emit(at(g, j), l.load, at(p, j), l.load, l.v(l2), l.mul, l.add, l.v(coef), l.mul, set(gr));
    f.emit(at(m, j), l.load, l.v(b1), l.mul, get(gr), l.v(c1), l.mul, l.add, set(m2));
    f.emit(at(v, j), l.load, l.v(b2), l.mul, get(gr), get(gr), l.mul, l.v(c2), l.mul, l.add, set(v2));
    for (const [x, dst] of [[m2, mOut], [v2, vOut]] as const) {
      const normal = [...get(x), ...l.abs, ...l.k(2 ** -126), ...l.ge];
      f.emit(get(x), l.width === 4 ? [...normal, ...op.v128And] : [...op.f32(0), ...normal, ...op.select], set(x), at(dst, j), get(x), l.store);
    }
    f.emit(at(pOut, j), at(p, j), l.load, l.v(decay), l.mul, get(m2), l.v(lrc), l.mul, get(v2), l.sqrt, l.v(ibc2), l.mul, l.v(eps), l.add, l.div, l.sub, l.store);
  });
  return f;
}

interface Kernels {
  gemm(a: number, lda: number, b: number, ldb: number, c: number, ldc: number, m: number, n: number, k: number, batch: number, sa: number, sb: number, sc: number, accumulate: number, bp: number): void;
  pack(b: number, ldb: number, bp: number, k: number, panels: number): void;
  transpose(x: number, y: number, rows: number, cols: number, batch: number): void;
  transposeChunks(x: number, y: number, rows: number, cols: number, e: number, batch: number): void;
  biasAct(c: number, rows: number, n: number, bias: number, act: number, alpha: number): void;
  layerNorm(x: number, gamma: number, beta: number, y: number, mean: number, rstd: number, n: number, d: number, eps: number, invD: number): void;
  layerNormGrad(dy: number, x: number, mean: number, rstd: number, gamma: number, dx: number, dgamma: number, dbeta: number, n: number, d: number, invD: number): void;
  activationGrad(dy: number, y: number, out: number, n: number, act: number, slope: number): void;
  sumSq(g: number, p: number, n: number, l2: number): number;
  adam(...args: number[]): void;
}

let compiled: WebAssembly.Module | null = null;
const instances = new WeakMap<WebAssembly.Memory, Kernels>();

function kernelsFor(memory: WebAssembly.Memory): Kernels {
  let k = instances.get(memory);
  if (k === undefined) {
    compiled ??= new WebAssembly.Module(assemble([gemmFn(), packFn(), transposeFn(), transposeChunksFn(), biasActFn(), layerNormFn(), layerNormGradFn(), activationGradFn(), sumSqFn(), adamFn()]));
    k = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as Kernels;
    instances.set(memory, k);
  }
  return k;
}

// ----------------------------------------------------------------------------------------------------
// The tfjs kernels.

/** The parts of tfjs-backend-wasm 4.22's backend that these kernels use (not public API). */
interface WasmBackend {
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } };
  wasm: { asm: { memory: WebAssembly.Memory }; HEAPF32: Float32Array; _malloc(bytes: number): number };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
  incRef(dataId: tf.DataId): void;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: WasmBackend; attrs: tf.NamedAttrMap };
type KernelImpl = (args: KernelArgs) => tf.TensorInfo;

/** Activations `biasAct` applies; the others run their element-wise kernel after a linear product. */
const IN_KERNEL_ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, leakyrelu: 2 };
const AFTER_KERNELS: Record<string, string> = { relu6: "Relu6", sigmoid: "Sigmoid", elu: "Elu", prelu: "Prelu" };

/** Keep B panels of the gemm (k × n floats) within ~1 MB so they stay in L2 across row blocks. */
const PANEL_FLOATS = 1 << 18;
/** Packing B pays off from this many rows of A (k = n = 256: 16 rows lose 10 %, 32 break even, 64 gain 4 %, 128 gain 7 %). */
const PACK_MIN_ROWS = 48;
const scratchBlocks = new WeakMap<WebAssembly.Memory, number>();

class Run {
  readonly k: Kernels;
  private readonly temps: tf.TensorInfo[] = [];
  constructor(readonly be: WasmBackend) {
    this.k = kernelsFor(be.wasm.asm.memory);
  }
  ptr(t: tf.TensorInfo): number {
    return this.be.dataIdMap.get(t.dataId).memoryOffset;
  }
  temp(shape: number[]): tf.TensorInfo {
    const t = this.be.makeOutput(shape, "float32");
    this.temps.push(t);
    return t;
  }
  /** x [..., r, c] → a temporary [..., c, r]. */
  swapLast2(x: tf.TensorInfo): tf.TensorInfo {
    const s = x.shape;
    const r = s[s.length - 2]!;
    const c = s[s.length - 1]!;
    const y = this.temp([...s.slice(0, -2), c, r]);
    this.k.transpose(this.ptr(x), this.ptr(y), r, c, tf.util.sizeFromShape(s) / (r * c));
    return y;
  }
  /**
   * `batch` products C[m,n] = A[m,k]·B[k,n], operands advanced by sa, sb, sc floats per product. A single
   * product with at least PACK_MIN_ROWS rows packs each B panel first.
   */
  gemm(a: number, b: number, c: number, m: number, n: number, k: number, batch: number, sa: number, sb: number, sc: number): void {
    const kc = k * n <= PANEL_FLOATS ? k : Math.max(8, Math.floor(PANEL_FLOATS / 2 / n));
    const panels = batch === 1 && m >= PACK_MIN_ROWS ? n >> 3 : 0;
    for (let k0 = 0; k0 < k; k0 += kc) {
      const kb = Math.min(kc, k - k0);
      let bp = 0;
      if (panels > 0 && kb * panels * 8 <= PANEL_FLOATS) {
        bp = this.scratch();
        this.k.pack(b + 4 * k0 * n, 4 * n, bp, kb, panels);
      }
      this.k.gemm(a + 4 * k0, 4 * k, b + 4 * k0 * n, 4 * n, c, 4 * n, m, n, kb, batch, 4 * sa, 4 * sb, 4 * sc, k0 > 0 ? 1 : 0, bp);
    }
  }
  /** PANEL_FLOATS floats of wasm memory for packed panels, one block per backend, never freed. */
  private scratch(): number {
    const memory = this.be.wasm.asm.memory;
    let p = scratchBlocks.get(memory);
    if (p === undefined) {
      p = this.be.wasm._malloc(4 * PANEL_FLOATS);
      scratchBlocks.set(memory, p);
    }
    return p;
  }
  dispose(): void {
    for (const t of this.temps) this.be.disposeData(t.dataId);
  }
}

/** For each flat index of the broadcast batch shape `out`, the flat index into batch shape `inp`. */
function broadcastIndex(out: number[], inp: number[]): Int32Array {
  const idx = new Int32Array(tf.util.sizeFromShape(out));
  const pad = out.length - inp.length;
  for (let f = 0; f < idx.length; f++) {
    let rem = f;
    let at = 0;
    let stride = 1;
    for (let d = out.length - 1; d >= pad; d--) {
      const coord = rem % out[d]!;
      rem = (rem - coord) / out[d]!;
      if (inp[d - pad] !== 1) at += coord * stride;
      stride *= inp[d - pad]!;
    }
    idx[f] = at;
  }
  return idx;
}

interface Epilogue {
  bias?: tf.TensorInfo;
  activation: number;
  alpha: number;
}

/**
 * a·b with optional transposes and broadcast batch dims, plus the fused epilogue. Batch dims broadcast
 * both ways ([2,1]×[1,3] gives 6 products, where tfjs's cpu kernel pairs batches modulo their counts).
 * Returns null for non-float32 operands, which the stock kernel rejects.
 */
function matMul(be: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean, ep: Epilogue): tf.TensorInfo | null {
  if (a.dtype !== "float32" || b.dtype !== "float32") return null;
  const ar = a.shape.length;
  const br = b.shape.length;
  const m = transposeA ? a.shape[ar - 1]! : a.shape[ar - 2]!;
  const k = transposeA ? a.shape[ar - 2]! : a.shape[ar - 1]!;
  const kb = transposeB ? b.shape[br - 1]! : b.shape[br - 2]!;
  const n = transposeB ? b.shape[br - 2]! : b.shape[br - 1]!;
  if (k !== kb) {
    throw new Error(`matMul: inner shapes ${k} and ${kb} of shapes [${a.shape}] and [${b.shape}] (transposeA=${transposeA}, transposeB=${transposeB}) must match`);
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(aBatch, bBatch);
  const batch = tf.util.sizeFromShape(outBatch);
  const na = tf.util.sizeFromShape(aBatch);
  const nb = tf.util.sizeFromShape(bBatch);
  const out = be.makeOutput([...outBatch, m, n], "float32");
  if (batch * m * n === 0) return out;
  const run = new Run(be);
  try {
    const C = run.ptr(out);
    // Elements transposed to compute C directly, or as Cᵀ = op(b)ᵀ·op(a)ᵀ and a transpose of that.
    const direct = (transposeA ? m * k : 0) + (transposeB ? k * n : 0);
    const viaCt = (transposeA ? 0 : m * k) + (transposeB ? 0 : k * n) + m * n;
    if (k === 0) {
      be.wasm.HEAPF32.fill(0, C >> 2, (C >> 2) + batch * m * n);
    } else if (na === 1 && nb === 1 && viaCt < direct) {
      // E.g. the weight gradient xᵀ·dz of x [1024,512], dz [1024,128] transposes 196k elements instead of 524k.
      const Bt = run.ptr(transposeB ? b : run.swapLast2(b));
      const At = run.ptr(transposeA ? a : run.swapLast2(a));
      const ct = run.temp([n, m]);
      run.gemm(Bt, At, run.ptr(ct), n, m, k, 1, 0, 0, 0);
      run.k.transpose(run.ptr(ct), C, n, m, 1);
    } else {
      const A = run.ptr(transposeA ? run.swapLast2(a) : a);
      const B = run.ptr(transposeB ? run.swapLast2(b) : b);
      if (nb === 1) {
        // b has no batch: a's batch dims fold into its rows.
        run.gemm(A, B, C, na * m, n, k, 1, 0, 0, 0);
      } else if ((na === 1 || na === batch) && nb === batch) {
        run.gemm(A, B, C, m, n, k, batch, na === 1 ? 0 : m * k, k * n, m * n);
      } else {
        const ai = broadcastIndex(outBatch, aBatch);
        const bi = broadcastIndex(outBatch, bBatch);
        for (let q = 0; q < batch; q++) run.gemm(A + 4 * ai[q]! * m * k, B + 4 * bi[q]! * k * n, C + 4 * q * m * n, m, n, k, 1, 0, 0, 0);
      }
    }
    if (ep.bias || ep.activation !== 0) {
      let bias = ep.bias ? run.ptr(ep.bias) : 0;
      if (ep.bias && ep.bias.shape[0] !== n) {
        // biasAct reads one bias per column.
        const full = run.temp([n]);
        // Read the heap view after allocating: growing the memory replaces it.
        const heap = be.wasm.HEAPF32;
        heap.fill(heap[bias >> 2]!, run.ptr(full) >> 2, (run.ptr(full) >> 2) + n);
        bias = run.ptr(full);
      }
      run.k.biasAct(C, batch * m, n, bias, ep.activation, ep.alpha);
    }
    return out;
  } finally {
    run.dispose();
  }
}

/**
 * A permutation as a swap of two axis groups: y[q, s, r, e] = x[q, r, s, e] over sizes [batch, rows, cols, e],
 * after dropping size-1 axes and merging axes that stay adjacent; null for any other permutation.
 */
function swapPlan(shape: number[], perm: number[]): { batch: number; rows: number; cols: number; e: number } | null {
  const kept = perm.filter((a) => shape[a] !== 1);
  const order = [...kept].sort((a, b) => a - b);
  // Runs of consecutive input axes in output order.
  const runs: number[][] = [];
  for (const a of kept) {
    const last = runs[runs.length - 1];
    if (last && order.indexOf(a) === order.indexOf(last[last.length - 1]!) + 1) last.push(a);
    else runs.push([a]);
  }
  const size = (run: number[]) => run.reduce((p, a) => p * shape[a]!, 1);
  const byInput = [...runs].sort((u, v) => u[0]! - v[0]!);
  const reduced = runs.map((run) => byInput.indexOf(run));
  const sizes = byInput.map(size);
  switch (reduced.join()) {
    case "1,0":
      return { batch: 1, rows: sizes[0]!, cols: sizes[1]!, e: 1 };
    case "0,2,1":
      return { batch: sizes[0]!, rows: sizes[1]!, cols: sizes[2]!, e: 1 };
    case "1,0,2":
      return { batch: 1, rows: sizes[0]!, cols: sizes[1]!, e: sizes[2]! };
    case "0,2,1,3":
      return { batch: sizes[0]!, rows: sizes[1]!, cols: sizes[2]!, e: sizes[3]! };
    default:
      return null;
  }
}

const lastDim = (t: tf.TensorInfo) => t.shape[t.shape.length - 1]!;

/** QttdmLayerNorm (nets/fused.ts): x [n, d], gamma, beta; eps → y, mean [n, 1], rstd [n, 1]. */
const fusedLayerNorm: KernelImpl = ({ inputs, backend, attrs }) => {
  const { x, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
  const d = lastDim(x!);
  const n = tf.util.sizeFromShape(x!.shape) / d;
  const run = new Run(backend);
  const [y, mean, rstd] = [x!.shape, [n, 1], [n, 1]].map((sh) => backend.makeOutput(sh, "float32"));
  run.k.layerNorm(run.ptr(x!), run.ptr(gamma!), run.ptr(beta!), run.ptr(y!), run.ptr(mean!), run.ptr(rstd!), n, d, attrs.eps as number, 1 / d);
  return [y!, mean!, rstd!] as unknown as tf.TensorInfo;
};

/** QttdmLayerNormGrad (nets/fused.ts): dy, x, mean, rstd, gamma → dx, dgamma, dbeta. */
const fusedLayerNormGrad: KernelImpl = ({ inputs, backend }) => {
  const { dy, x, mean, rstd, gamma } = inputs as Record<string, tf.TensorInfo>;
  const d = lastDim(x!);
  const n = tf.util.sizeFromShape(x!.shape) / d;
  const run = new Run(backend);
  const [dx, dgamma, dbeta] = [x!.shape, [d], [d]].map((sh) => backend.makeOutput(sh, "float32"));
  const heap = backend.wasm.HEAPF32;
  for (const t of [dgamma!, dbeta!]) heap.fill(0, run.ptr(t) >> 2, (run.ptr(t) >> 2) + d);
  run.k.layerNormGrad(run.ptr(dy!), run.ptr(x!), run.ptr(mean!), run.ptr(rstd!), run.ptr(gamma!), run.ptr(dx!), run.ptr(dgamma!), run.ptr(dbeta!), n, d, 1 / d);
  return [dx!, dgamma!, dbeta!] as unknown as tf.TensorInfo;
};

/** QttdmActivationGrad (nets/fused.ts): dy, y (z for gelu); activation, slope → dL/dz. */
const fusedActivationGrad: KernelImpl = ({ inputs, backend, attrs }) => {
  const { dy, y } = inputs as Record<string, tf.TensorInfo>;
  const code = ACTIVATION_GRAD_CODES[attrs.activation as string];
  if (code === undefined) throw new Error(`QttdmActivationGrad: unknown activation ${String(attrs.activation)}`);
  const run = new Run(backend);
  const out = backend.makeOutput(dy!.shape, "float32");
  run.k.activationGrad(run.ptr(dy!), run.ptr(y!), run.ptr(out), tf.util.sizeFromShape(dy!.shape), code, (attrs.slope as number | undefined) ?? 0);
  return out;
};

/** QttdmGelu (nets/fused.ts): x → x·Φ(x). */
const fusedGelu: KernelImpl = ({ inputs, backend }) => {
  const { x } = inputs as Record<string, tf.TensorInfo>;
  const run = new Run(backend);
  const out = backend.makeOutput(x!.shape, "float32");
  run.k.activationGrad(run.ptr(x!), run.ptr(x!), run.ptr(out), tf.util.sizeFromShape(x!.shape), GELU_VALUE, 0);
  return out;
};

/**
 * QttdmAdam (nets/fused.ts): inputs per group grads…, params…, m, v; returns the global gradient norm, then
 * per group the new params…, m, v. The norm sums in float64 (the composed form sums in float32).
 */
const fusedAdam: KernelImpl = ({ inputs, backend, attrs }) => {
  const ins = Object.values(inputs) as tf.TensorInfo[];
  const a = attrs as unknown as { beta1: number; beta2: number; bc1: number; invSqrtBc2: number; eps: number; clipNorm: number | null; groups: { size: number; lr: number; decay: number; l2: number }[] };
  const run = new Run(backend);
  const size = (t: tf.TensorInfo) => tf.util.sizeFromShape(t.shape);
  let sq = 0;
  let first = 0;
  for (const g of a.groups) {
    for (let j = 0; j < g.size; j++) sq += run.k.sumSq(run.ptr(ins[first + j]!), run.ptr(ins[first + g.size + j]!), size(ins[first + j]!), g.l2);
    first += 2 * g.size + 2;
  }
  const norm = Math.fround(Math.sqrt(sq));
  const coef = a.clipNorm === null ? 1 : Math.min(1, Math.fround(a.clipNorm / Math.fround(norm + 1e-6)));
  const out: tf.TensorInfo[] = [backend.makeOutput([], "float32")];
  first = 0;
  for (const g of a.groups) {
    const [m, v] = [ins[first + 2 * g.size]!, ins[first + 2 * g.size + 1]!];
    const [mOut, vOut] = [backend.makeOutput(m.shape, "float32"), backend.makeOutput(v.shape, "float32")];
    let o = 0;
    for (let j = 0; j < g.size; j++) {
      const [grad, p] = [ins[first + j]!, ins[first + g.size + j]!];
      const pOut = backend.makeOutput(p.shape, "float32");
      const args = [grad, p, m, v, pOut, mOut, vOut].map((t, i) => run.ptr(t) + (i === 2 || i === 3 || i === 5 || i === 6 ? 4 * o : 0));
      run.k.adam(...args, size(p), coef, g.l2, a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, g.lr / a.bc1, a.invSqrtBc2, a.eps, g.decay);
      out.push(pOut);
      o += size(p);
    }
    out.push(mOut, vOut);
    first += 2 * g.size + 2;
  }
  backend.wasm.HEAPF32[run.ptr(out[0]!) >> 2] = norm;
  return out as unknown as tf.TensorInfo;
};

let installed = false;

/** Whether installWasmKernels replaced the stock kernels (its `_FusedMatMul` then takes 2-D operands too). */
export function wasmKernelsInstalled(): boolean {
  return installed;
}

/**
 * Install the kernels above on the wasm backend (see the module doc). Call after the wasm backend is
 * initialised; idempotent. Returns false, leaving the stock kernels, when the backend is missing or its
 * internals are not those of tfjs-backend-wasm 4.22.
 */
export function installWasmKernels(): boolean {
  if (installed) return true;
  const stock = Object.fromEntries(["BatchMatMul", "_FusedMatMul", "Transpose", "Identity"].map((k) => [k, tf.getKernel(k, "wasm")]));
  const after = Object.fromEntries(Object.entries(AFTER_KERNELS).map(([act, kernel]) => [act, tf.getKernel(kernel, "wasm")?.kernelFunc as unknown as KernelImpl | undefined]));
  const be = tf.findBackend("wasm") as unknown as Partial<WasmBackend> | null;
  if (Object.values(stock).some((k) => !k) || Object.values(after).some((f) => !f)) return false;
  if (typeof be?.dataIdMap?.get !== "function" || typeof be.incRef !== "function") return false;
  const memory = be.wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return false;
  try {
    kernelsFor(memory);
  } catch {
    return false;
  }
  const stockImpl = (name: string) => stock[name]!.kernelFunc as unknown as KernelImpl;

  const batchMatMul: KernelImpl = (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    return matMul(args.backend, a, b, transposeA, transposeB, { activation: 0, alpha: 0 }) ?? stockImpl("BatchMatMul")(args);
  };

  const fusedMatMul: KernelImpl = (args) => {
    const be = args.backend;
    const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean; activation: string; leakyreluAlpha?: number };
    const inKernel = IN_KERNEL_ACTIVATIONS[attrs.activation];
    const afterwards = after[attrs.activation];
    if (inKernel === undefined && afterwards === undefined) throw new Error(`_FusedMatMul: activation ${attrs.activation} is not supported on wasm`);
    if (bias && bias.shape.length !== 1) throw new Error(`_FusedMatMul only supports rank-1 bias but got rank ${bias.shape.length}.`);
    const out = matMul(be, a!, b!, attrs.transposeA, attrs.transposeB, { bias, activation: inKernel ?? 0, alpha: attrs.leakyreluAlpha ?? 0 });
    if (out === null) return stockImpl("_FusedMatMul")(args);
    if (afterwards === undefined) return out;
    const inputs: tf.NamedTensorInfoMap = { x: out };
    if (preluActivationWeights) inputs.alpha = preluActivationWeights;
    const y = afterwards({ inputs, backend: be, attrs: {} });
    be.disposeData(out.dataId);
    return y;
  };

  const transpose: KernelImpl = (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const perm = args.attrs.perm as number[];
    const plan = x.dtype === "float32" || x.dtype === "int32" ? swapPlan(x.shape, perm) : null;
    if (plan === null || tf.util.sizeFromShape(x.shape) === 0) return stockImpl("Transpose")(args);
    const run = new Run(args.backend);
    const out = args.backend.makeOutput(perm.map((p) => x.shape[p]!), x.dtype);
    const { batch, rows, cols, e } = plan;
    if (e === 1) run.k.transpose(run.ptr(x), run.ptr(out), rows, cols, batch);
    else run.k.transposeChunks(run.ptr(x), run.ptr(out), rows, cols, e, batch);
    return out;
  };

  const identity: KernelImpl = (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === "string") return stockImpl("Identity")(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };

  const impls: Record<string, KernelImpl> = { BatchMatMul: batchMatMul, _FusedMatMul: fusedMatMul, Transpose: transpose, Identity: identity };
  for (const [kernelName, kernelFunc] of Object.entries(impls)) {
    tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel({ kernelName, backendName: "wasm", setupFunc: stock[kernelName]!.setupFunc, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
  // QttdmCachedBlock and the attention kernels are libtorch's only: wasm runs the composed forms.
  const fused: Record<Exclude<FusedKernel, "QttdmCachedBlock" | "QttdmAttention" | "QttdmAttentionGrad">, KernelImpl> = {
    QttdmLayerNorm: fusedLayerNorm,
    QttdmLayerNormGrad: fusedLayerNormGrad,
    QttdmActivationGrad: fusedActivationGrad,
    QttdmGelu: fusedGelu,
    QttdmAdam: fusedAdam,
  };
  for (const [kernelName, kernelFunc] of Object.entries(fused)) {
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
  installed = true;
  return true;
}
