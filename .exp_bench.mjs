// src/bench/learner.ts
import * as tf7 from "@tensorflow/tfjs";
import { spawnSync } from "node:child_process";
import { existsSync as existsSync2 } from "node:fs";
import path2 from "node:path";
import { fileURLToPath } from "node:url";

// src/backend/index.ts
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { z } from "zod";

// src/core/errors.ts
var QttdmError = class extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
};
var ConfigError = class extends QttdmError {
};
function show(value) {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === void 0) return String(value);
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${value.length})`;
  try {
    const s = JSON.stringify(value);
    return s.length > 120 ? s.slice(0, 117) + "..." : s;
  } catch {
    return String(value);
  }
}

// src/backend/index.ts
var BACKEND_CHOICES = ["auto", "tensorflow", "wasm", "cpu"];
var backendConfigSchema = z.object({
  backend: z.enum(["auto", "tensorflow", "wasm", "cpu"]).default("auto").describe("tfjs backend: auto (tfjs-node-gpu > tfjs-node > wasm > cpu), tensorflow, wasm or cpu")
}).strict();
var require_ = createRequire(import.meta.url);
var current = null;
function packageVersion(name) {
  try {
    const p = require_.resolve(`${name}/package.json`);
    return JSON.parse(readFileSync(p, "utf8")).version;
  } catch {
    return null;
  }
}
function wasmDir() {
  return path.dirname(require_.resolve("@tensorflow/tfjs-backend-wasm/package.json")) + path.sep + "dist" + path.sep;
}
function gpuPresent() {
  return existsSync("/dev/nvidiactl") || existsSync("/dev/nvidia0");
}
async function tryNative(pkg) {
  if (packageVersion(pkg) === null) return { ok: false, reason: `${pkg} is not installed` };
  try {
    const spec = pkg;
    await import(spec);
  } catch (e) {
    return { ok: false, reason: `${pkg} failed to load: ${e.message.split("\n")[0]}` };
  }
  if (!await tf.setBackend("tensorflow")) return { ok: false, reason: `${pkg} loaded but backend "tensorflow" failed to initialise` };
  return { ok: true };
}
async function useWasm() {
  try {
    setWasmPaths(wasmDir());
    if (!await tf.setBackend("wasm")) return { ok: false, reason: "wasm backend failed to initialise" };
    await tf.ready();
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `wasm backend failed: ${e.message}` };
  }
}
function describe(requested, nativePackage, notes) {
  const name = tf.getBackend();
  const versions = { "tfjs-core": tf.version_core, node: process.versions.node };
  let simd = null;
  let threads = 1;
  if (name === "wasm") {
    simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT");
    threads = tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT") ? 0 : 1;
    versions["tfjs-backend-wasm"] = packageVersion("@tensorflow/tfjs-backend-wasm") ?? "?";
    if (!simd) notes.push("wasm SIMD unavailable: using the slower scalar wasm build");
  } else if (name === "tensorflow" && nativePackage) {
    threads = 0;
    versions[nativePackage.replace("@tensorflow/", "")] = packageVersion(nativePackage) ?? "?";
  }
  return { name, requested, nativePackage, gpu: nativePackage === "@tensorflow/tfjs-node-gpu", simd, threads, versions, notes };
}
async function selectBackend(choice = "auto") {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new ConfigError(`backend: got ${show(choice)}, expected one of ${BACKEND_CHOICES.join(", ")}`);
  }
  if (current && current.requested === choice && tf.getBackend() === current.name) return current;
  const notes = [];
  if (choice === "tensorflow" || choice === "auto") {
    const candidates = gpuPresent() ? ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] : ["@tensorflow/tfjs-node"];
    for (const pkg of candidates) {
      const r = await tryNative(pkg);
      if (r.ok) return current = describe(choice, pkg, notes);
      notes.push(r.reason);
    }
    if (choice === "tensorflow") {
      throw new QttdmError(
        `backend "tensorflow" is unavailable (${notes.join("; ")}). Install it with \`npm install @tensorflow/tfjs-node@4.22.0\` (or \`npm install @tensorflow/tfjs-node-gpu@4.22.0\` with CUDA), or choose backend "wasm" or "cpu".`
      );
    }
  }
  if (choice === "wasm" || choice === "auto") {
    const r = await useWasm();
    if (r.ok) return current = describe(choice, null, notes);
    notes.push(r.reason);
    if (choice === "wasm") {
      throw new QttdmError(
        `backend "wasm" is unavailable (${r.reason}). Reinstall it with \`npm install @tensorflow/tfjs-backend-wasm@4.22.0\`, or choose backend "cpu".`
      );
    }
  }
  if (!await tf.setBackend("cpu")) throw new QttdmError('backend "cpu" failed to initialise');
  await tf.ready();
  return current = describe(choice, null, notes);
}
function formatBackend(info) {
  const extra = info.name === "wasm" ? ` (${info.simd ? "simd" : "no simd"}, ${info.threads} thread)` : info.gpu ? " (gpu)" : "";
  return `${info.name}${extra} tfjs-core ${info.versions["tfjs-core"]}`;
}
function numTensors() {
  return tf.memory().numTensors;
}

// src/core/rng.ts
var TWO_POW_32 = 4294967296;
function splitmix32(seed) {
  let x = seed >>> 0;
  return () => {
    x = x + 2654435769 >>> 0;
    let z3 = x;
    z3 = Math.imul(z3 ^ z3 >>> 16, 2246822507) >>> 0;
    z3 = Math.imul(z3 ^ z3 >>> 13, 3266489909) >>> 0;
    return (z3 ^ z3 >>> 16) >>> 0;
  };
}
var Rng = class _Rng {
  s0 = 0;
  s1 = 0;
  s2 = 0;
  s3 = 0;
  spare = null;
  constructor(seed) {
    if (!Number.isFinite(seed)) throw new RangeError(`Rng seed must be a finite number, got ${seed}`);
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    const mix = splitmix32(seed >>> 0 ^ Math.imul(hi, 668265261));
    this.s0 = mix();
    this.s1 = mix();
    this.s2 = mix();
    this.s3 = mix();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }
  static fromState(state) {
    const r = new _Rng(0);
    r.setState(state);
    return r;
  }
  /** Next raw uint32. */
  nextUint32() {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }
  /** Uniform double in [0, 1) with 53 random bits. */
  random() {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }
  /** Uniform double in [low, high). */
  uniform(low = 0, high = 1) {
    return low + (high - low) * this.random();
  }
  /** Normal deviate (Box-Muller; the second deviate is cached and part of the state). */
  normal(mean3 = 0, std = 1) {
    if (this.spare !== null) {
      const z3 = this.spare;
      this.spare = null;
      return mean3 + std * z3;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean3 + std * r * Math.cos(2 * Math.PI * v);
  }
  /** Uniform integer in [low, high) (high exclusive, like numpy's `integers`). Unbiased. */
  integers(low, high) {
    const range = high - low;
    if (!(range >= 1) || !Number.isInteger(range)) {
      throw new RangeError(`integers(low, high) needs integers with high > low, got low=${low}, high=${high}`);
    }
    if (range <= TWO_POW_32) {
      const limit = TWO_POW_32 - TWO_POW_32 % range;
      let x = this.nextUint32();
      while (x >= limit) x = this.nextUint32();
      return low + x % range;
    }
    return low + Math.floor(this.random() * range);
  }
  /** One element of `items`, uniformly. */
  choice(items) {
    if (items.length === 0) throw new RangeError("choice() needs a non-empty array");
    return items[this.integers(0, items.length)];
  }
  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle(items) {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.integers(0, i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
  /** Fill `out` with uniform [0, 1) floats. */
  fillUniform(out, low = 0, high = 1) {
    for (let i = 0; i < out.length; i++) out[i] = low + (high - low) * this.random();
    return out;
  }
  /** Fill `out` with normal deviates. */
  fillNormal(out, mean3 = 0, std = 1) {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean3, std);
    return out;
  }
  /** A new generator whose stream is independent of this one (consumes two draws). */
  spawn() {
    return new _Rng(this.nextUint32() * 2097152 + (this.nextUint32() >>> 11));
  }
  state() {
    return { s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0], spareNormal: this.spare };
  }
  setState(state) {
    const s = state?.s;
    if (!Array.isArray(s) || s.length !== 4 || s.some((w) => !Number.isInteger(w) || w < 0 || w >= TWO_POW_32)) {
      throw new RangeError(`Rng state must have s: four uint32 words, got ${JSON.stringify(state)}`);
    }
    [this.s0, this.s1, this.s2, this.s3] = s;
    this.spare = state.spareNormal ?? null;
  }
};
function rotl(x, k) {
  return x << k | x >>> 32 - k;
}

// src/nets/layers.ts
import * as tf4 from "@tensorflow/tfjs";

// src/nets/module.ts
import * as tf2 from "@tensorflow/tfjs";
function initValues(spec, size, fanIn, fanOut, rng) {
  const out = new Float32Array(size);
  if (spec === "zeros") return out;
  if (spec === "ones") return out.fill(1);
  if (spec === "fan_in_uniform") {
    const l = 1 / Math.sqrt(fanIn);
    return rng.fillUniform(out, -l, l);
  }
  if (spec === "glorot_uniform") {
    const l = Math.sqrt(6 / (fanIn + fanOut));
    return rng.fillUniform(out, -l, l);
  }
  if (spec === "he_normal") return rng.fillNormal(out, 0, Math.sqrt(2 / fanIn));
  if (spec.kind === "normal") return rng.fillNormal(out, 0, spec.std);
  if (spec.kind === "uniform") return rng.fillUniform(out, -spec.limit, spec.limit);
  throw new ConfigError(`init: got ${show(spec)}, expected fan_in_uniform, glorot_uniform, he_normal, zeros, ones, {kind:"normal"} or {kind:"uniform"}`);
}
function joinName(...parts) {
  return parts.filter((p) => p.length > 0).join("/");
}
var Module = class {
  /** @param name this module's name segment (may be "" for an anonymous wrapper). */
  constructor(name) {
    this.name = name;
  }
  name;
  own = /* @__PURE__ */ new Map();
  children = [];
  /** Create a trainable float32 variable named `<this.name>/<local>` with values from `init`. */
  addParam(local, shape, init, rng, fanIn, fanOut) {
    if (this.own.has(local)) throw new ConfigError(`module ${show(this.name)}: parameter ${show(local)} defined twice`);
    const size = shape.reduce((a, b) => a * b, 1);
    const fi = fanIn ?? (shape.length >= 2 ? shape[shape.length - 2] : shape[0] ?? 1);
    const fo = fanOut ?? shape[shape.length - 1] ?? 1;
    const values = initValues(init, size, fi, fo, rng);
    const v = tf2.tidy(() => tf2.variable(tf2.tensor(values, shape, "float32"), true));
    this.own.set(local, v);
    return v;
  }
  addChild(child) {
    this.children.push(child);
    return child;
  }
  /** Every parameter of this module and its children under full names, in creation order. */
  params() {
    const out = /* @__PURE__ */ new Map();
    this.collect("", out);
    return out;
  }
  collect(prefix, out) {
    const base = joinName(prefix, this.name);
    for (const [k, v] of this.own) out.set(joinName(base, k), v);
    for (const c of this.children) c.collect(base, out);
  }
  /** Total number of scalar parameters. */
  numParams() {
    let n = 0;
    for (const v of this.params().values()) n += v.size;
    return n;
  }
  /** Free every variable of this module and its children. */
  dispose() {
    for (const v of this.params().values()) v.dispose();
  }
};

// src/nets/ops.ts
import * as tf3 from "@tensorflow/tfjs";
var ACTIVATIONS = ["linear", "relu", "leaky_relu", "gelu", "tanh"];
var LEAKY_SLOPE = 0.01;
function checkActivation(a, where) {
  if (!ACTIVATIONS.includes(a)) {
    throw new ConfigError(`${where}: activation ${show(a)} is not one of ${ACTIVATIONS.join(", ")}`);
  }
  return a;
}
var onesCache = /* @__PURE__ */ new Map();
function onesRow(n) {
  const key = `${tf3.getBackend()}:${n}`;
  let t = onesCache.get(key);
  if (t === void 0 || t.isDisposed) {
    t = tf3.keep(tf3.ones([1, n]));
    onesCache.set(key, t);
  }
  return t;
}
function sumRows(x) {
  return tf3.reshape(tf3.matMul(onesRow(x.shape[0]), x), [x.shape[1]]);
}
function transposeLast2(x) {
  const r = x.rank;
  if (r === 2) return tf3.transpose(x);
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf3.transpose(x, perm);
}
var bmm = tf3.customGrad((a, b, save) => {
  const A = a;
  const B = b;
  save([A, B]);
  return {
    value: tf3.matMul(A, B),
    gradFunc: (dy, saved) => {
      const [sa, sb] = saved;
      return [tf3.matMul(dy, transposeLast2(sb)), tf3.matMul(transposeLast2(sa), dy)];
    }
  };
});
function matMul2(a, b) {
  return bmm(a, b);
}
var SQRT1_2 = Math.SQRT1_2;
var INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
function geluValue(z3) {
  return tf3.mul(tf3.mul(z3, 0.5), tf3.add(tf3.erf(tf3.mul(z3, SQRT1_2)), 1));
}
function geluDeriv(z3) {
  const cdf = tf3.mul(tf3.add(tf3.erf(tf3.mul(z3, SQRT1_2)), 1), 0.5);
  const pdf = tf3.mul(tf3.exp(tf3.mul(tf3.square(z3), -0.5)), INV_SQRT_2PI);
  return tf3.add(cdf, tf3.mul(z3, pdf));
}
function activate(z3, act) {
  switch (act) {
    case "linear":
      return z3;
    case "relu":
      return tf3.relu(z3);
    case "leaky_relu":
      return tf3.leakyRelu(z3, LEAKY_SLOPE);
    case "tanh":
      return tf3.tanh(z3);
    case "gelu":
      return geluValue(z3);
  }
}
function activationBackward(dy, y, z3, act) {
  switch (act) {
    case "linear":
      return dy;
    case "relu":
      return tf3.mul(dy, tf3.step(y));
    case "leaky_relu":
      return tf3.mul(dy, tf3.add(tf3.mul(tf3.step(y), 1 - LEAKY_SLOPE), LEAKY_SLOPE));
    case "tanh":
      return tf3.mul(dy, tf3.sub(1, tf3.square(y)));
    case "gelu":
      return tf3.mul(dy, geluDeriv(z3));
  }
}
function fusedName(act) {
  if (act === "linear") return "linear";
  if (act === "relu") return "relu";
  if (act === "leaky_relu") return "leakyrelu";
  return null;
}
function fusedMatMul(x, w, b, act) {
  const [n, k] = x.shape;
  const m = w.shape[1];
  const inputs = { a: tf3.reshape(x, [1, n, k]), b: tf3.reshape(w, [1, k, m]) };
  if (b) inputs.bias = b;
  const attrs = { transposeA: false, transposeB: false, activation: act, leakyreluAlpha: LEAKY_SLOPE };
  const y = tf3.engine().runKernel("_FusedMatMul", inputs, attrs);
  return tf3.reshape(y, [n, m]);
}
function forward(x, w, b, act) {
  const f = fusedName(act);
  if (f !== null) return { y: fusedMatMul(x, w, b, f), z: null };
  const z3 = fusedMatMul(x, w, b, "linear");
  return { y: activate(z3, act), z: act === "gelu" ? z3 : null };
}
function backward(dy, x, w, y, z3, act, needDx) {
  const dz = activationBackward(dy, y, z3, act);
  const dx = needDx ? tf3.matMul(dz, tf3.transpose(w)) : null;
  const dw = tf3.matMul(tf3.transpose(x), dz);
  return { dz, dx, dw };
}
function denseStack(x, layers, inputGrad = true) {
  const params = [];
  for (const l of layers) {
    params.push(l.w);
    if (l.b) params.push(l.b);
  }
  const op = tf3.customGrad((...args) => {
    const save = args[args.length - 1];
    const X = inputGrad ? args[0] : x;
    const saved = [X];
    let h = X;
    for (const l of layers) {
      const { y, z: z3 } = forward(h, l.w, l.b, l.act);
      saved.push(y);
      if (z3) saved.push(z3);
      h = y;
    }
    save(saved);
    return {
      value: h,
      gradFunc: (dy, st) => {
        const ins = [];
        const outs = [];
        const pre = [];
        let k = 0;
        let cur = st[k++];
        for (const l of layers) {
          ins.push(cur);
          cur = st[k++];
          outs.push(cur);
          pre.push(l.act === "gelu" ? st[k++] : null);
        }
        const grads = new Array(params.length);
        let gi = params.length;
        let g = dy;
        for (let i = layers.length - 1; i >= 0; i--) {
          const l = layers[i];
          const r = backward(g, ins[i], l.w, outs[i], pre[i], l.act, i > 0 || inputGrad);
          if (l.b) grads[--gi] = sumRows(r.dz);
          grads[--gi] = r.dw;
          if (r.dx) g = r.dx;
        }
        return inputGrad ? [g, ...grads] : grads;
      }
    };
  });
  return inputGrad ? op(x, ...params) : op(...params);
}
function dense(x, w, b, act = "linear") {
  const inDim = w.shape[0];
  const outDim = w.shape[1];
  if (x.shape[x.rank - 1] !== inDim) {
    throw new ConfigError(`dense: input last dim ${x.shape[x.rank - 1]} does not match kernel [${w.shape.join(", ")}]`);
  }
  const x2 = x.rank === 2 ? x : tf3.reshape(x, [-1, inDim]);
  const y = denseStack(x2, [{ w, b, act }]);
  return x.rank === 2 ? y : tf3.reshape(y, [...x.shape.slice(0, -1), outDim]);
}
var geluOp = tf3.customGrad((x, save) => {
  const X = x;
  save([X]);
  return { value: geluValue(X), gradFunc: (dy, saved) => tf3.mul(dy, geluDeriv(saved[0])) };
});
function meanLast(x) {
  return tf3.mul(tf3.sum(x, -1, true), 1 / x.shape[1]);
}
var layerNormFns = /* @__PURE__ */ new Map();
function layerNormFn(eps) {
  let fn = layerNormFns.get(eps);
  if (fn) return fn;
  fn = tf3.customGrad((x, g, b, save) => {
    const X = x;
    const G = g;
    const xc = tf3.sub(X, meanLast(X));
    const rstd = tf3.rsqrt(tf3.add(meanLast(tf3.square(xc)), eps));
    const xhat = tf3.mul(xc, rstd);
    save([xhat, rstd, G]);
    return {
      value: tf3.add(tf3.mul(xhat, G), b),
      gradFunc: (dy, saved) => {
        const [sxhat, srstd, sg] = saved;
        const dy2 = dy;
        const dxhat = tf3.mul(dy2, sg);
        const inner = tf3.sub(tf3.sub(dxhat, meanLast(dxhat)), tf3.mul(sxhat, meanLast(tf3.mul(dxhat, sxhat))));
        return [tf3.mul(inner, srstd), sumRows(tf3.mul(dy2, sxhat)), sumRows(dy2)];
      }
    };
  });
  layerNormFns.set(eps, fn);
  return fn;
}
function layerNorm(x, gamma, beta, eps = 1e-5) {
  const d = gamma.shape[0];
  const x2 = x.rank === 2 ? x : tf3.reshape(x, [-1, d]);
  const y = layerNormFn(eps)(x2, gamma, beta);
  return x.rank === 2 ? y : tf3.reshape(y, x.shape);
}
var maskCache = /* @__PURE__ */ new Map();
function causalMask(t) {
  const key = `${tf3.getBackend()}:${t}`;
  let m = maskCache.get(key);
  if (m === void 0 || m.isDisposed) {
    const v = new Float32Array(t * t);
    for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) v[i * t + j] = -1e9;
    m = tf3.keep(tf3.tensor2d(v, [t, t]));
    maskCache.set(key, m);
  }
  return m;
}
function huber(x, delta = 1) {
  const a = tf3.abs(x);
  const q = tf3.minimum(a, delta);
  return tf3.mul(q, tf3.sub(a, tf3.mul(q, 0.5)));
}
function selectColumns(q, idx) {
  const [n, k] = q.shape;
  let mask;
  if (idx instanceof Int32Array) {
    const m = new Float32Array(n * k);
    for (let i = 0; i < n; i++) m[i * k + idx[i]] = 1;
    mask = tf3.tensor2d(m, [n, k]);
  } else {
    mask = tf3.cast(tf3.oneHot(tf3.cast(idx, "int32"), k), "float32");
  }
  return tf3.sum(tf3.mul(q, mask), -1);
}
function splitFlat(x, sizes) {
  if (sizes.length === 1) return [x];
  if (tf3.getBackend() !== "wasm") return tf3.split(x, sizes);
  const v = x.dataSync();
  const out = [];
  let o = 0;
  for (const s of sizes) {
    out.push(tf3.tensor1d(v.subarray(o, o + s), "float32"));
    o += s;
  }
  return out;
}

// src/nets/layers.ts
function checkPositiveInt(v, what) {
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${what}: got ${show(v)}, expected a positive integer`);
}
var Dense = class extends Module {
  constructor(name, inDim, outDim, rng, opts = {}) {
    super(name);
    this.inDim = inDim;
    this.outDim = outDim;
    checkPositiveInt(inDim, `dense ${name} inDim`);
    checkPositiveInt(outDim, `dense ${name} outDim`);
    this.activation = checkActivation(opts.activation ?? "linear", `dense ${name}`);
    this.kernel = this.addParam("kernel", [inDim, outDim], opts.kernelInit ?? "fan_in_uniform", rng);
    this.bias = opts.useBias === false ? null : this.addParam("bias", [outDim], opts.biasInit ?? "fan_in_uniform", rng, inDim, outDim);
  }
  inDim;
  outDim;
  kernel;
  bias;
  activation;
  /** @param x [..., in] @returns [..., out] */
  apply(x) {
    return dense(x, this.kernel, this.bias, this.activation);
  }
};
var Mlp = class extends Module {
  constructor(name, inDim, hidden, outDim, rng, opts = {}) {
    super(name);
    this.inDim = inDim;
    this.hidden = hidden;
    this.outDim = outDim;
    const dims = [inDim, ...hidden, outDim];
    this.layers = [];
    for (let i = 0; i + 1 < dims.length; i++) {
      const last = i + 2 === dims.length;
      this.layers.push(
        this.addChild(
          new Dense(`dense${i}`, dims[i], dims[i + 1], rng, {
            activation: last ? opts.outActivation ?? "linear" : opts.activation ?? "relu",
            kernelInit: last && opts.lastInit ? opts.lastInit : opts.kernelInit,
            biasInit: last && opts.lastInit ? opts.lastInit : void 0
          })
        )
      );
    }
    this.specs = this.layers.map((l) => ({ w: l.kernel, b: l.bias, act: l.activation }));
  }
  inDim;
  hidden;
  outDim;
  layers;
  specs;
  /**
   * Runs all layers as one differentiable op (`denseStack`).
   * @param x [..., in]
   * @param inputGrad false when x needs no gradient (raw observations): skips computing it
   * @returns [..., out]
   */
  apply(x, inputGrad = true) {
    const x2 = x.rank === 2 ? x : tf4.reshape(x, [-1, this.inDim]);
    const y = denseStack(x2, this.specs, inputGrad);
    return x.rank === 2 ? y : tf4.reshape(y, [...x.shape.slice(0, -1), this.outDim]);
  }
};
var LayerNorm = class extends Module {
  constructor(name, dim, rng, eps = 1e-5) {
    super(name);
    this.dim = dim;
    this.eps = eps;
    checkPositiveInt(dim, `layer norm ${name} dim`);
    this.gamma = this.addParam("gamma", [dim], "ones", rng);
    this.beta = this.addParam("beta", [dim], "zeros", rng);
  }
  dim;
  eps;
  gamma;
  beta;
  /** @param x [..., dim] @returns [..., dim] */
  apply(x) {
    return layerNorm(x, this.gamma, this.beta, this.eps);
  }
};
var CausalSelfAttention = class extends Module {
  constructor(name, dim, heads, rng) {
    super(name);
    this.dim = dim;
    this.heads = heads;
    checkPositiveInt(heads, `attention ${name} heads`);
    if (dim % heads !== 0) throw new ConfigError(`attention ${name}: width ${dim} is not divisible by heads ${heads}`);
    this.headDim = dim / heads;
    this.q = this.addChild(new Dense("q", dim, dim, rng));
    this.k = this.addChild(new Dense("k", dim, dim, rng));
    this.v = this.addChild(new Dense("v", dim, dim, rng));
    this.proj = this.addChild(new Dense("proj", dim, dim, rng));
  }
  dim;
  heads;
  q;
  k;
  v;
  proj;
  headDim;
  /** [b, t, d] → [b, heads, t, dh] */
  split(x, b, t) {
    return tf4.transpose(tf4.reshape(x, [b, t, this.heads, this.headDim]), [0, 2, 1, 3]);
  }
  /**
   * @param x [b, t, d]
   * @param bias optional additive attention bias broadcastable to [b, heads, t, t] (e.g. −1e9 to mask keys),
   *   added to the causal mask.
   * @returns [b, t, d]
   */
  apply(x, bias) {
    const [b, t, d] = x.shape;
    const q = this.split(tf4.mul(this.q.apply(x), 1 / Math.sqrt(this.headDim)), b, t);
    const kT = tf4.transpose(tf4.reshape(this.k.apply(x), [b, t, this.heads, this.headDim]), [0, 2, 3, 1]);
    const v = this.split(this.v.apply(x), b, t);
    let scores = tf4.add(matMul2(q, kT), causalMask(t));
    if (bias) scores = tf4.add(scores, bias);
    const o = matMul2(tf4.softmax(scores), v);
    const merged = tf4.reshape(tf4.transpose(o, [0, 2, 1, 3]), [b, t, d]);
    return this.proj.apply(merged);
  }
};
var TransformerBlock = class extends Module {
  constructor(name, dim, heads, rng, opts = {}) {
    super(name);
    this.dim = dim;
    const hidden = Math.round((opts.mlpRatio ?? 4) * dim);
    this.ln1 = this.addChild(new LayerNorm("ln1", dim, rng));
    this.attn = this.addChild(new CausalSelfAttention("attn", dim, heads, rng));
    this.ln2 = this.addChild(new LayerNorm("ln2", dim, rng));
    this.fc1 = this.addChild(new Dense("fc1", dim, hidden, rng, { activation: opts.activation ?? "gelu" }));
    this.fc2 = this.addChild(new Dense("fc2", hidden, dim, rng));
  }
  dim;
  ln1;
  attn;
  ln2;
  fc1;
  fc2;
  /** @param x [b, t, d] @param bias optional attention bias (see CausalSelfAttention) @returns [b, t, d] */
  apply(x, bias) {
    const a = tf4.add(x, this.attn.apply(this.ln1.apply(x), bias));
    return tf4.add(a, this.fc2.apply(this.fc1.apply(this.ln2.apply(a))));
  }
};
var Transformer = class extends Module {
  constructor(name, opts, rng) {
    super(name);
    this.opts = opts;
    checkPositiveInt(opts.layers, `transformer ${name} layers`);
    this.blocks = [];
    for (let i = 0; i < opts.layers; i++) this.blocks.push(this.addChild(new TransformerBlock(`block${i}`, opts.dim, opts.heads, rng, opts)));
    this.lnf = this.addChild(new LayerNorm("lnf", opts.dim, rng));
  }
  opts;
  blocks;
  lnf;
  /** @param x [b, t, d] token embeddings (positions already added) @returns [b, t, d] */
  apply(x, bias) {
    let h = x;
    for (const blk of this.blocks) h = blk.apply(h, bias);
    return this.lnf.apply(h);
  }
};
var PositionEmbedding = class extends Module {
  constructor(name, maxLen, dim, rng) {
    super(name);
    this.maxLen = maxLen;
    this.dim = dim;
    checkPositiveInt(maxLen, `position embedding ${name} maxLen`);
    this.table = this.addParam("table", [maxLen, dim], { kind: "normal", std: 0.02 }, rng);
  }
  maxLen;
  dim;
  table;
  /** @param x [b, t, dim] with t ≤ maxLen @returns x + positions[0..t) */
  apply(x) {
    const t = x.shape[1];
    if (t > this.maxLen) throw new ConfigError(`position embedding ${this.name}: sequence length ${t} exceeds maxLen ${this.maxLen}`);
    const pos = t === this.maxLen ? this.table : tf4.slice(this.table, [0, 0], [t, this.dim]);
    return tf4.add(x, pos);
  }
};

// src/nets/optim.ts
import * as tf5 from "@tensorflow/tfjs";
import { z as z2 } from "zod";

// src/core/schedule.ts
function scheduleValue(spec, step2) {
  switch (spec.kind) {
    case "constant":
      return spec.value;
    case "linear": {
      const f = fraction(step2, spec.begin ?? 0, spec.duration);
      return spec.start + (spec.end - spec.start) * f;
    }
    case "cosine": {
      const f = fraction(step2, spec.begin ?? 0, spec.duration);
      return spec.end + (spec.start - spec.end) * 0.5 * (1 + Math.cos(Math.PI * f));
    }
    case "step": {
      const k = Math.max(0, Math.floor((step2 - (spec.begin ?? 0)) / spec.every));
      const v = spec.start * Math.pow(spec.factor, k);
      if (spec.end === void 0) return v;
      return spec.factor < 1 ? Math.max(v, spec.end) : Math.min(v, spec.end);
    }
  }
}
function fraction(step2, begin, duration) {
  if (duration <= 0) return step2 >= begin ? 1 : 0;
  return Math.min(1, Math.max(0, (step2 - begin) / duration));
}

// src/nets/optim.ts
var optimizerConfigSchema = z2.object({
  lr: z2.number().positive().default(3e-4).describe("Adam learning rate (constant; schedules are set in code)"),
  beta1: z2.number().min(0).lt(1).default(0.9).describe("Adam \u03B21 (first-moment decay)"),
  beta2: z2.number().min(0).lt(1).default(0.999).describe("Adam \u03B22 (second-moment decay)"),
  eps: z2.number().positive().default(1e-8).describe("Adam \u03B5 added to \u221Av\u0302"),
  weightDecay: z2.number().min(0).default(0).describe("weight decay (decoupled AdamW unless decoupledWeightDecay is false)"),
  decoupledWeightDecay: z2.boolean().default(true).describe("true: AdamW (p -= lr\xB7wd\xB7p); false: L2 added to the gradient (torch Adam)"),
  clipNorm: z2.number().positive().nullable().default(10).describe("global gradient-norm clip; null disables clipping")
}).strict();
var Adam = class {
  groups;
  cfg;
  allVars;
  t = 0;
  /**
   * @param params one `ParamMap` (a single group named "params") or several named groups
   * @param config hyper-parameters (missing keys take the schema defaults; lr 3e-4, clip 10)
   */
  constructor(params, config = {}) {
    this.cfg = optimizerConfigSchema.parse(config);
    const specs = params instanceof Map ? [{ name: "params", params }] : params;
    const seen = /* @__PURE__ */ new Set();
    this.groups = specs.map((spec) => {
      if (spec.params.size === 0) throw new ConfigError(`optimizer group ${show(spec.name)} has no parameters`);
      const names = [...spec.params.keys()];
      const vars = [...spec.params.values()];
      for (const [i, v] of vars.entries()) {
        if (seen.has(v)) throw new ConfigError(`optimizer: parameter ${show(names[i])} is in more than one group`);
        if (v.dtype !== "float32") throw new ConfigError(`optimizer: parameter ${show(names[i])} has dtype ${v.dtype}, expected float32`);
        seen.add(v);
      }
      const sizes = vars.map((v) => v.size);
      const total = sizes.reduce((a, b) => a + b, 0);
      const weightDecay = spec.weightDecay ?? this.cfg.weightDecay;
      if (!(weightDecay >= 0)) throw new ConfigError(`optimizer group ${show(spec.name)}: weightDecay ${show(weightDecay)} must be \u2265 0`);
      const zeros2 = () => tf5.tidy(() => tf5.variable(tf5.zeros([total]), false));
      return { spec, names, vars, sizes, weightDecay, m: zeros2(), v: zeros2() };
    });
    const groupNames = new Set(this.groups.map((g) => g.spec.name));
    if (groupNames.size !== this.groups.length) throw new ConfigError(`optimizer: group names must be unique, got ${show(specs.map((s) => s.name))}`);
    this.allVars = this.groups.flatMap((g) => g.vars);
  }
  /** Updates applied so far (Adam's t). */
  get updates() {
    return this.t;
  }
  /** Learning rate a group uses at the next update. */
  learningRate(group = 0) {
    const lr = this.groups[group]?.spec.lr ?? this.cfg.lr;
    return typeof lr === "number" ? lr : scheduleValue(lr, this.t);
  }
  /**
   * Compute the loss and gradients of every parameter, clip by the global norm, and apply one Adam step.
   * Tensors created by `lossFn` are freed; `aux` tensors are read back and freed too.
   * @param lossFn builds the scalar loss from the parameters (inside a gradient tape)
   */
  step(lossFn) {
    let auxT;
    const { value, grads } = tf5.variableGrads(() => {
      const out = lossFn();
      if (out instanceof tf5.Tensor) return out;
      auxT = out.aux;
      if (auxT) for (const t of Object.values(auxT)) tf5.keep(t);
      return out.loss;
    }, this.allVars);
    let gradNorm;
    try {
      gradNorm = this.apply(grads);
    } finally {
      tf5.dispose(grads);
    }
    const loss = value.dataSync()[0];
    value.dispose();
    const aux = {};
    if (auxT) {
      for (const [k, t] of Object.entries(auxT)) {
        aux[k] = t.dataSync();
        t.dispose();
      }
    }
    return { loss, gradNorm, aux };
  }
  /**
   * Apply gradients keyed by tfjs variable name (as `tf.variableGrads` returns them; the caller keeps
   * ownership). A missing gradient counts as zero. Returns the global gradient norm before clipping.
   */
  apply(grads) {
    const t = this.t + 1;
    const norm = this.update(grads, t);
    this.t = t;
    return norm;
  }
  update(grads, t) {
    const { beta1: b1, beta2: b2, eps, clipNorm, decoupledWeightDecay } = this.cfg;
    const norm = tf5.tidy(() => {
      const flats = this.groups.map(
        (g) => tf5.concat(
          g.vars.map((v, i) => {
            const gr = grads[v.name];
            const flat = gr ? tf5.reshape(gr, [-1]) : tf5.zeros([g.sizes[i]]);
            return g.weightDecay > 0 && !decoupledWeightDecay ? tf5.add(flat, tf5.mul(tf5.reshape(v, [-1]), g.weightDecay)) : flat;
          })
        )
      );
      let sq = tf5.sum(tf5.square(flats[0]));
      for (let i = 1; i < flats.length; i++) sq = tf5.add(sq, tf5.sum(tf5.square(flats[i])));
      const n = tf5.sqrt(sq);
      const coef = clipNorm === null ? null : tf5.minimum(1, tf5.div(clipNorm, tf5.add(n, 1e-6)));
      const bc1 = 1 - Math.pow(b1, t);
      const invSqrtBc2 = 1 / Math.sqrt(1 - Math.pow(b2, t));
      this.groups.forEach((g, gi) => {
        const M = g.m;
        const V = g.v;
        const gr = coef ? tf5.mul(flats[gi], coef) : flats[gi];
        const m = tf5.add(tf5.mul(M, b1), tf5.mul(gr, 1 - b1));
        const v = tf5.add(tf5.mul(V, b2), tf5.mul(tf5.square(gr), 1 - b2));
        M.assign(m);
        V.assign(v);
        const lr = this.learningRate(gi);
        const upd = tf5.div(tf5.mul(m, lr / bc1), tf5.add(tf5.mul(tf5.sqrt(v), invSqrtBc2), eps));
        const pieces = splitFlat(upd, g.sizes);
        const decay = decoupledWeightDecay && g.weightDecay > 0 ? 1 - lr * g.weightDecay : 1;
        g.vars.forEach((p, i) => {
          const base = decay === 1 ? p : tf5.mul(p, decay);
          p.assign(tf5.sub(base, tf5.reshape(pieces[i], p.shape)));
        });
      });
      return n;
    });
    const value = norm.dataSync()[0];
    norm.dispose();
    return value;
  }
  /** A group's moments read back as float32 arrays. */
  moments(g) {
    return [g.m.dataSync(), g.v.dataSync()];
  }
  /**
   * Optimiser state as named tensors (new tensors; the caller disposes them): `adam/step` [1] and per
   * parameter `<group>/<param>/adam_m` and `…/adam_v` with the parameter's shape.
   */
  stateTensors() {
    const out = /* @__PURE__ */ new Map();
    out.set("adam/step", tf5.tensor1d([this.t], "float32"));
    for (const g of this.groups) {
      const [m, v] = this.moments(g);
      let o = 0;
      g.names.forEach((n, i) => {
        const size = g.sizes[i];
        out.set(`${g.spec.name}/${n}/adam_m`, tf5.tensor(m.slice(o, o + size), g.vars[i].shape, "float32"));
        out.set(`${g.spec.name}/${n}/adam_v`, tf5.tensor(v.slice(o, o + size), g.vars[i].shape, "float32"));
        o += size;
      });
    }
    return out;
  }
  /** Names and shapes `stateTensors()` produces, for validating a loaded file before touching state. */
  stateShapes() {
    const out = /* @__PURE__ */ new Map([["adam/step", [1]]]);
    for (const g of this.groups) {
      g.names.forEach((n, i) => {
        out.set(`${g.spec.name}/${n}/adam_m`, g.vars[i].shape);
        out.set(`${g.spec.name}/${n}/adam_v`, g.vars[i].shape);
      });
    }
    return out;
  }
  /** Restore from `stateTensors()`-shaped values (validate names and shapes first, e.g. with `stateShapes`). */
  loadStateTensors(state) {
    const get = (key) => {
      const x = state.get(key);
      if (!x) throw new ConfigError(`optimizer state: missing ${key}`);
      return x.dataSync();
    };
    const step2 = Math.round(get("adam/step")[0]);
    const loaded = this.groups.map((g) => {
      const total = g.sizes.reduce((a, b) => a + b, 0);
      const m = new Float32Array(total);
      const v = new Float32Array(total);
      let o = 0;
      g.names.forEach((n, i) => {
        m.set(get(`${g.spec.name}/${n}/adam_m`), o);
        v.set(get(`${g.spec.name}/${n}/adam_v`), o);
        o += g.sizes[i];
      });
      return [m, v];
    });
    this.groups.forEach((g, gi) => {
      const [m, v] = loaded[gi];
      tf5.tidy(() => {
        g.m.assign(tf5.tensor1d(m));
        g.v.assign(tf5.tensor1d(v));
      });
    });
    this.t = step2;
  }
  dispose() {
    for (const g of this.groups) {
      g.m.dispose();
      g.v.dispose();
    }
  }
};

// src/nets/weights.ts
import * as tf6 from "@tensorflow/tfjs";
import CRC32 from "crc-32";
function asParams(p) {
  return p instanceof Module ? p.params() : p;
}
function sameShape(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
function pairUp(src, dst, what) {
  const problems = [];
  const pairs = [];
  for (const [n, d] of dst) {
    const s = src.get(n);
    if (!s) problems.push(`missing in source: ${n}`);
    else if (!sameShape(s.shape, d.shape)) problems.push(`${n}: source [${s.shape.join(", ")}] vs destination [${d.shape.join(", ")}]`);
    else pairs.push([s, d]);
  }
  for (const n of src.keys()) if (!dst.has(n)) problems.push(`missing in destination: ${n}`);
  if (problems.length) throw new QttdmError(`${what}: parameter sets differ: ${problems.join("; ")}`);
  return pairs;
}
function copyWeights(src, dst) {
  const pairs = pairUp(asParams(src), asParams(dst), "copyWeights");
  tf6.tidy(() => {
    for (const [s, d] of pairs) d.assign(tf6.clone(s));
  });
}

// src/bench/learner.ts
var OBS = 8;
var ACTIONS = 4;
var BATCH = 128;
var GAMMA = 0.99;
function makeDqnWorkload(seed = 0) {
  const rng = new Rng(seed);
  const online = new Mlp("q", OBS, [256, 256], ACTIONS, rng);
  const target = new Mlp("q", OBS, [256, 256], ACTIONS, rng);
  copyWeights(online, target);
  const opt = new Adam(online.params(), { lr: 63e-5, clipNorm: 10, eps: 1e-8, beta1: 0.9, beta2: 0.999 });
  const n = 5e4;
  const obs = rng.fillUniform(new Float32Array(n * OBS), -1, 1);
  const nobs = rng.fillUniform(new Float32Array(n * OBS), -1, 1);
  const act = new Int32Array(n);
  const rew = new Float32Array(n);
  const disc = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    act[i] = rng.integers(0, ACTIONS);
    rew[i] = rng.uniform(-1, 1);
    disc[i] = rng.random() < 0.05 ? 0 : GAMMA;
  }
  const s = new Float32Array(BATCH * OBS);
  const s2 = new Float32Array(BATCH * OBS);
  const a = new Int32Array(BATCH);
  const r = new Float32Array(BATCH);
  const g = new Float32Array(BATCH);
  const update = () => {
    for (let i = 0; i < BATCH; i++) {
      const j = rng.integers(0, n);
      s.set(obs.subarray(j * OBS, (j + 1) * OBS), i * OBS);
      s2.set(nobs.subarray(j * OBS, (j + 1) * OBS), i * OBS);
      a[i] = act[j];
      r[i] = rew[j];
      g[i] = disc[j];
    }
    const y = tf7.tidy(() => {
      const next = tf7.tensor2d(s2, [BATCH, OBS]);
      const aStar = tf7.argMax(online.apply(next), 1);
      const qNext = selectColumns(target.apply(next), aStar);
      return tf7.add(tf7.tensor1d(r), tf7.mul(tf7.tensor1d(g), qNext));
    });
    const out = opt.step(() => {
      const q = selectColumns(online.apply(tf7.tensor2d(s, [BATCH, OBS]), false), a);
      return tf7.mean(huber(tf7.sub(q, y)));
    });
    y.dispose();
    return out.loss;
  };
  const dispose4 = () => {
    online.dispose();
    target.dispose();
    opt.dispose();
  };
  return { online, target, opt, update, dispose: dispose4 };
}
function makeTransformerWorkload(seed = 0, batch = 64) {
  const T = 16;
  const D = 128;
  const rng = new Rng(seed);
  const inp = new Dense("inp", 8, D, rng);
  const pos = new PositionEmbedding("pos", T, D, rng);
  const body = new Transformer("tf", { layers: 2, dim: D, heads: 4, activation: "relu" }, rng);
  const out = new Dense("out", D, 4, rng);
  const params = new Map([...inp.params(), ...pos.params(), ...body.params(), ...out.params()]);
  const opt = new Adam(params, { lr: 3e-4, clipNorm: null, eps: 1e-8 });
  const x = tf7.tensor3d(rng.fillNormal(new Float32Array(batch * T * 8)), [batch, T, 8]);
  const y = tf7.tensor3d(rng.fillNormal(new Float32Array(batch * T * 4)), [batch, T, 4]);
  const step2 = () => opt.step(() => {
    const h = body.apply(pos.apply(inp.apply(x)));
    return tf7.mean(tf7.squaredDifference(out.apply(h), y));
  }).loss;
  const dispose4 = () => {
    for (const m of [inp, pos, body, out]) m.dispose();
    opt.dispose();
    tf7.dispose([x, y]);
  };
  return { params, step: step2, dispose: dispose4 };
}
function timeLoop(n, f) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1e3, cpu: (c.user + c.system) / 1e6 };
}
async function logProfile(ctx, label, f) {
  const info = await tf7.profile(() => {
    f();
  });
  const by = /* @__PURE__ */ new Map();
  let total = 0;
  for (const k of info.kernels) {
    const ms = Number(k.kernelTimeMs) || 0;
    const e = by.get(k.name) ?? { n: 0, ms: 0 };
    e.n++;
    e.ms += ms;
    by.set(k.name, e);
    if (!/scope|forward|__op/.test(k.name)) total += ms;
  }
  const top = [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12);
  ctx.log(`${label} profile: ${info.kernels.length} kernels, ${round(total, 2)} ms in leaf kernels; ` + top.map(([k, e]) => `${k}\xD7${e.n} ${round(e.ms, 2)}ms`).join(", "));
}
function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}
function torchReferencePath() {
  const here = path2.dirname(fileURLToPath(import.meta.url));
  for (const p of [path2.resolve(here, "../../../shared/bench/torch_reference.py"), path2.resolve(process.cwd(), "../shared/bench/torch_reference.py")]) {
    if (existsSync2(p)) return p;
  }
  return null;
}
function runTorch(ctx, threads, w1n, w3n) {
  const py = "/usr/bin/python3";
  const script = torchReferencePath();
  if (!existsSync2(py) || !script) return null;
  if (spawnSync(py, ["-c", "import torch"], { stdio: "ignore" }).status !== 0) {
    ctx.log("torch not importable by /usr/bin/python3: reporting ours only (apt-get install -y python3-torch to compare)");
    return null;
  }
  ctx.log(`running PyTorch reference ${script}`);
  const r = spawnSync(py, [script, String(threads), String(w1n), String(w3n)], { encoding: "utf8", timeout: 6e5 });
  if (r.status !== 0) {
    ctx.log(`torch reference failed: ${r.stderr.slice(-500)}`);
    return null;
  }
  const f = { w2: {} };
  for (const line of r.stdout.split("\n")) {
    if (!line.trim()) continue;
    const j = JSON.parse(line);
    if (j.torch) f.version = String(j.torch);
    if (j.w === "W1") f.w1 = j.upd_per_s;
    if (j.w === "W2") f.w2[j.batch] = { p50: j.p50_us, p99: j.p99_us };
    if (j.w === "W3") f.w3 = j.steps_per_s;
    if (j.w === "W3-sdpa") f.w3sdpa = j.steps_per_s;
    ctx.log(`torch: ${line}`);
  }
  return f;
}
var round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
var learnerBenchmark = {
  name: "learner",
  description: "DQN update (W1), greedy-action latency (W2) and transformer step (W3) on the selected tfjs backend, vs PyTorch CPU when available",
  async run(ctx) {
    const info = await selectBackend(ctx.options.backend ?? "auto");
    ctx.log(`backend: ${formatBackend(info)}`);
    const w1n = ctx.quick ? 200 : 2e3;
    const w3n = ctx.quick ? 30 : 300;
    const lat = ctx.quick ? 1e3 : 5e3;
    const figs2 = { backend: info.name, simd: info.simd, threads: info.threads };
    let leaked = 0;
    const dqn = makeDqnWorkload(0);
    timeLoop(ctx.quick ? 20 : 200, dqn.update);
    let before = numTensors();
    const w1t = timeLoop(w1n, dqn.update);
    leaked += numTensors() - before;
    const w1 = w1n / w1t.wall;
    figs2.w1_upd_per_s = round(w1);
    figs2.w1_cpu_upd_per_s = round(w1n / w1t.cpu);
    ctx.log(`W1 DQN update: ${round(w1)} upd/s (${round(1e3 / w1, 3)} ms wall, ${round(1e3 * w1t.cpu / w1n, 3)} ms CPU)`);
    if (ctx.options.profile) await logProfile(ctx, "W1", dqn.update);
    for (const bs of [1, 16]) {
      const rng = new Rng(1);
      const x = rng.fillUniform(new Float32Array(bs * OBS));
      const sel = () => {
        const t = tf7.tidy(() => tf7.argMax(dqn.online.apply(tf7.tensor2d(x, [bs, OBS]), false), 1));
        const v = t.dataSync();
        t.dispose();
        return v;
      };
      for (let i = 0; i < 500; i++) sel();
      before = numTensors();
      const times = new Float64Array(lat);
      for (let i = 0; i < lat; i++) {
        const t0 = performance.now();
        sel();
        times[i] = (performance.now() - t0) * 1e3;
      }
      leaked += numTensors() - before;
      times.sort();
      figs2[`w2_b${bs}_p50_us`] = round(percentile(times, 0.5), 1);
      figs2[`w2_b${bs}_p90_us`] = round(percentile(times, 0.9), 1);
      figs2[`w2_b${bs}_p99_us`] = round(percentile(times, 0.99), 1);
      ctx.log(`W2 greedy action batch ${bs}: p50 ${figs2[`w2_b${bs}_p50_us`]} \xB5s, p90 ${figs2[`w2_b${bs}_p90_us`]} \xB5s`);
    }
    dqn.dispose();
    const tr = makeTransformerWorkload(0);
    timeLoop(ctx.quick ? 5 : 30, tr.step);
    before = numTensors();
    const w3t = timeLoop(w3n, tr.step);
    leaked += numTensors() - before;
    const w3 = w3n / w3t.wall;
    figs2.w3_steps_per_s = round(w3);
    figs2.w3_cpu_steps_per_s = round(w3n / w3t.cpu);
    ctx.log(`W3 transformer step: ${round(w3)} steps/s (${round(1e3 / w3, 2)} ms wall, ${round(1e3 * w3t.cpu / w3n, 2)} ms CPU)`);
    if (ctx.options.profile) await logProfile(ctx, "W3", tr.step);
    tr.dispose();
    figs2.leaked_tensors = leaked;
    const torchThreads = Number(ctx.options["torch-threads"] ?? ctx.options.torchThreads ?? 2);
    const torch = ctx.options.torch === false || ctx.options["no-torch"] ? null : runTorch(ctx, torchThreads, w1n, w3n);
    if (torch) {
      figs2.torch_version = torch.version ?? null;
      figs2.torch_threads = torchThreads;
      if (torch.w1) {
        figs2.torch_w1_upd_per_s = torch.w1;
        figs2.w1_ratio_vs_torch = round(w1 / torch.w1, 3);
      }
      for (const bs of [1, 16]) {
        const t = torch.w2?.[bs];
        if (t) {
          figs2[`torch_w2_b${bs}_p50_us`] = t.p50;
          figs2[`w2_b${bs}_speed_ratio_vs_torch`] = round(t.p50 / figs2[`w2_b${bs}_p50_us`], 3);
        }
      }
      if (torch.w3) {
        figs2.torch_w3_steps_per_s = torch.w3;
        figs2.w3_ratio_vs_torch = round(w3 / torch.w3, 3);
      }
      if (torch.w3sdpa) figs2.torch_w3_sdpa_steps_per_s = torch.w3sdpa;
    }
    return figs2;
  }
};
var learner = learnerBenchmark;

// ../../tmp/exp/runbench.ts
var quick = process.argv.includes("--quick");
var backend = process.argv.find((a) => a.startsWith("--backend="))?.slice(10) ?? "wasm";
var figs = await learner.run({ quick, options: { backend, profile: process.argv.includes("--profile"), "torch-threads": process.argv.find((a) => a.startsWith("--tt="))?.slice(5) ?? 2 }, log: (l) => console.log(l) });
console.log(JSON.stringify(figs));
