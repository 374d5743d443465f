/**
 * Adam / AdamW with global gradient-norm clipping and parameter groups.
 *
 * Two equivalent implementations of the same update, picked by backend (`mode`):
 * - `js` (wasm and cpu backends): gradients and parameters are read once into typed arrays, the update
 *   runs in one JavaScript loop with the moments held in Float32Arrays, and each parameter is written
 *   back with one upload. On wasm this replaces ≈15 kernel launches plus a split per group.
 * - `tensor` (native tensorflow backend, possibly on a GPU, where reading back would stall): each group's
 *   moments are one flat tf.Variable; an update concatenates the gradients, runs the arithmetic once on
 *   the flat vector and splits the step back onto the variables. tfjs's own AdamOptimizer launches ≈10
 *   ops per variable instead.
 *
 * Update rule (as PyTorch `torch.optim.Adam`/`AdamW`, including where ε goes):
 *   g ← g · min(1, clip / (‖g‖₂ + 1e-6))          (‖g‖ over every group together)
 *   m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²
 *   p ← p − lr/(1−β1ᵗ) · m / (√v / √(1−β2ᵗ) + ε)   [− lr·wd·p for AdamW; g += wd·p for L2 Adam]
 */
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { ConfigError, show } from "../core/errors.js";
import { scheduleValue, type ScheduleSpec } from "../core/schedule.js";
import type { ParamMap } from "./module.js";
import { splitFlat } from "./ops.js";

export const optimizerConfigSchema = z
  .object({
    lr: z.number().positive().default(3e-4).describe("Adam learning rate (constant; schedules are set in code)"),
    beta1: z.number().min(0).lt(1).default(0.9).describe("Adam β1 (first-moment decay)"),
    beta2: z.number().min(0).lt(1).default(0.999).describe("Adam β2 (second-moment decay)"),
    eps: z.number().positive().default(1e-8).describe("Adam ε added to √v̂"),
    weightDecay: z.number().min(0).default(0).describe("weight decay (decoupled AdamW unless decoupledWeightDecay is false)"),
    decoupledWeightDecay: z.boolean().default(true).describe("true: AdamW (p -= lr·wd·p); false: L2 added to the gradient (torch Adam)"),
    clipNorm: z.number().positive().nullable().default(10).describe("global gradient-norm clip; null disables clipping"),
  })
  .strict();
export type OptimizerConfig = z.infer<typeof optimizerConfigSchema>;

/** A set of parameters sharing a learning rate (e.g. an encoder trained slower than the head). */
export interface ParamGroup {
  /** Group name, used in optimiser-state names (`<name>/…`). */
  name: string;
  params: ParamMap;
  /** Learning rate or a schedule over the optimiser's update count; default: the optimiser's `lr`. */
  lr?: number | ScheduleSpec;
  /** Overrides the optimiser's weight decay for this group (e.g. 0 for layer norms and biases). */
  weightDecay?: number;
}

/** What a loss function may return: the scalar loss, or the loss plus tensors to read back (e.g. TD errors). */
export type LossOutput = tf.Scalar | { loss: tf.Scalar; aux?: Record<string, tf.Tensor> };

export interface StepResult {
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** The `aux` tensors of the loss function, read back (their tensors are disposed). */
  aux: Record<string, Float32Array | Int32Array | Uint8Array>;
}

/** `js`: update in typed arrays (wasm, cpu); `tensor`: update in tfjs ops (native backends). */
export type AdamMode = "js" | "tensor";

interface GroupState {
  spec: ParamGroup;
  names: string[];
  vars: tf.Variable[];
  sizes: number[];
  weightDecay: number;
  /** Moments: Float32Arrays in js mode, flat variables in tensor mode. */
  m: Float32Array | tf.Variable;
  v: Float32Array | tf.Variable;
}

export class Adam {
  private readonly groups: GroupState[];
  private readonly cfg: OptimizerConfig;
  private readonly allVars: tf.Variable[];
  readonly mode: AdamMode;
  private t = 0;

  /**
   * @param params one `ParamMap` (a single group named "params") or several named groups
   * @param config hyper-parameters (missing keys take the schema defaults; lr 3e-4, clip 10)
   * @param mode default: `tensor` on the native tensorflow backend, `js` otherwise
   */
  constructor(params: ParamMap | ParamGroup[], config: Partial<OptimizerConfig> = {}, mode?: AdamMode) {
    this.cfg = optimizerConfigSchema.parse(config);
    this.mode = mode ?? (tf.getBackend() === "tensorflow" ? "tensor" : "js");
    const specs = params instanceof Map ? [{ name: "params", params }] : params;
    const seen = new Set<tf.Variable>();
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
      if (!(weightDecay >= 0)) throw new ConfigError(`optimizer group ${show(spec.name)}: weightDecay ${show(weightDecay)} must be ≥ 0`);
      const zeros = () => (this.mode === "js" ? new Float32Array(total) : tf.variable(tf.zeros([total]), false));
      return { spec, names, vars, sizes, weightDecay, m: zeros(), v: zeros() };
    });
    const groupNames = new Set(this.groups.map((g) => g.spec.name));
    if (groupNames.size !== this.groups.length) throw new ConfigError(`optimizer: group names must be unique, got ${show(specs.map((s) => s.name))}`);
    this.allVars = this.groups.flatMap((g) => g.vars);
  }

  /** Updates applied so far (Adam's t). */
  get updates(): number {
    return this.t;
  }

  /** Learning rate a group uses at the next update. */
  learningRate(group = 0): number {
    const lr = this.groups[group]?.spec.lr ?? this.cfg.lr;
    return typeof lr === "number" ? lr : scheduleValue(lr, this.t);
  }

  /**
   * Compute the loss and gradients of every parameter, clip by the global norm, and apply one Adam step.
   * Tensors created by `lossFn` are freed; `aux` tensors are read back and freed too.
   * @param lossFn builds the scalar loss from the parameters (inside a gradient tape)
   */
  step(lossFn: () => LossOutput): StepResult {
    let auxT: Record<string, tf.Tensor> | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const out = lossFn();
      if (out instanceof tf.Tensor) return out;
      auxT = out.aux;
      if (auxT) for (const t of Object.values(auxT)) tf.keep(t);
      return out.loss;
    }, this.allVars);
    let gradNorm: number;
    try {
      gradNorm = this.apply(grads);
    } finally {
      tf.dispose(grads);
    }
    const loss = value.dataSync()[0]!;
    value.dispose();
    const aux: StepResult["aux"] = {};
    if (auxT) {
      for (const [k, t] of Object.entries(auxT)) {
        aux[k] = t.dataSync() as Float32Array | Int32Array | Uint8Array;
        t.dispose();
      }
    }
    return { loss, gradNorm, aux };
  }

  /**
   * Apply gradients keyed by tfjs variable name (as `tf.variableGrads` returns them; the caller keeps
   * ownership). A missing gradient counts as zero. Returns the global gradient norm before clipping.
   */
  apply(grads: tf.NamedTensorMap): number {
    const t = this.t + 1;
    const norm = this.mode === "js" ? this.applyJs(grads, t) : this.applyTensor(grads, t);
    this.t = t;
    return norm;
  }

  private applyJs(grads: tf.NamedTensorMap, t: number): number {
    const { beta1: b1, beta2: b2, eps, clipNorm, decoupledWeightDecay } = this.cfg;
    const gs = this.groups.map((g) => g.vars.map((v) => (grads[v.name]?.dataSync() as Float32Array | undefined) ?? null));
    let sq = 0;
    for (const [gi, g] of this.groups.entries()) {
      for (const [i, v] of g.vars.entries()) {
        let a = gs[gi]![i]!;
        // L2 (coupled) decay enters the gradient before clipping, as torch.optim.Adam's weight_decay.
        if (g.weightDecay > 0 && !decoupledWeightDecay) {
          const p = v.dataSync() as Float32Array;
          const out = new Float32Array(p.length);
          if (a) for (let j = 0; j < p.length; j++) out[j] = a[j]! + g.weightDecay * p[j]!;
          else for (let j = 0; j < p.length; j++) out[j] = g.weightDecay * p[j]!;
          gs[gi]![i] = a = out;
        }
        if (a) for (let j = 0; j < a.length; j++) sq += a[j]! * a[j]!;
      }
    }
    const norm = Math.sqrt(sq);
    const coef = clipNorm === null ? 1 : Math.min(1, clipNorm / (norm + 1e-6));
    const bc1 = 1 - Math.pow(b1, t);
    const invSqrtBc2 = 1 / Math.sqrt(1 - Math.pow(b2, t));
    const c1 = 1 - b1;
    const c2 = 1 - b2;
    for (const [gi, g] of this.groups.entries()) {
      const m = g.m as Float32Array;
      const vv = g.v as Float32Array;
      const lr = this.learningRate(gi);
      const step = lr / bc1;
      const decay = decoupledWeightDecay && g.weightDecay > 0 ? 1 - lr * g.weightDecay : 1;
      let o = 0;
      for (const [i, v] of g.vars.entries()) {
        const a = gs[gi]![i]!;
        const p = v.dataSync() as Float32Array;
        const out = new Float32Array(p.length);
        for (let j = 0; j < p.length; j++) {
          const gr = a ? a[j]! * coef : 0;
          const mj = (m[o + j] = b1 * m[o + j]! + c1 * gr);
          const vj = (vv[o + j] = b2 * vv[o + j]! + c2 * gr * gr);
          out[j] = p[j]! * decay - (step * mj) / (Math.sqrt(vj) * invSqrtBc2 + eps);
        }
        o += p.length;
        tf.tidy(() => v.assign(tf.tensor(out, v.shape, "float32")));
      }
    }
    return norm;
  }

  private applyTensor(grads: tf.NamedTensorMap, t: number): number {
    const { beta1: b1, beta2: b2, eps, clipNorm, decoupledWeightDecay } = this.cfg;
    const norm = tf.tidy(() => {
      const flats = this.groups.map((g) =>
        tf.concat(
          g.vars.map((v, i) => {
            const gr = grads[v.name];
            const flat = gr ? tf.reshape(gr, [-1]) : tf.zeros([g.sizes[i]!]);
            return g.weightDecay > 0 && !decoupledWeightDecay ? tf.add(flat, tf.mul(tf.reshape(v, [-1]), g.weightDecay)) : flat;
          }),
        ),
      );
      let sq: tf.Tensor = tf.sum(tf.square(flats[0]!));
      for (let i = 1; i < flats.length; i++) sq = tf.add(sq, tf.sum(tf.square(flats[i]!)));
      const n = tf.sqrt(sq);
      const coef = clipNorm === null ? null : tf.minimum(1, tf.div(clipNorm, tf.add(n, 1e-6)));
      const bc1 = 1 - Math.pow(b1, t);
      const invSqrtBc2 = 1 / Math.sqrt(1 - Math.pow(b2, t));
      this.groups.forEach((g, gi) => {
        const M = g.m as tf.Variable;
        const V = g.v as tf.Variable;
        const gr = coef ? tf.mul(flats[gi]!, coef) : flats[gi]!;
        const m = tf.add(tf.mul(M, b1), tf.mul(gr, 1 - b1));
        const v = tf.add(tf.mul(V, b2), tf.mul(tf.square(gr), 1 - b2));
        M.assign(m);
        V.assign(v);
        const lr = this.learningRate(gi);
        const upd = tf.div(tf.mul(m, lr / bc1), tf.add(tf.mul(tf.sqrt(v), invSqrtBc2), eps));
        const pieces = splitFlat(upd as tf.Tensor1D, g.sizes);
        const decay = decoupledWeightDecay && g.weightDecay > 0 ? 1 - lr * g.weightDecay : 1;
        g.vars.forEach((p, i) => {
          const base = decay === 1 ? p : tf.mul(p, decay);
          p.assign(tf.sub(base, tf.reshape(pieces[i]!, p.shape)));
        });
      });
      return n;
    });
    const value = norm.dataSync()[0]!;
    norm.dispose();
    return value;
  }

  /** A group's moments as float32 arrays (copies in tensor mode). */
  private moments(g: GroupState): [Float32Array, Float32Array] {
    const read = (x: Float32Array | tf.Variable) => (x instanceof Float32Array ? x : (x.dataSync() as Float32Array));
    return [read(g.m), read(g.v)];
  }

  /**
   * Optimiser state as named tensors (new tensors; the caller disposes them): `adam/step` [1] and per
   * parameter `<group>/<param>/adam_m` and `…/adam_v` with the parameter's shape.
   */
  stateTensors(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    out.set("adam/step", tf.tensor1d([this.t], "float32"));
    for (const g of this.groups) {
      const [m, v] = this.moments(g);
      let o = 0;
      g.names.forEach((n, i) => {
        const size = g.sizes[i]!;
        out.set(`${g.spec.name}/${n}/adam_m`, tf.tensor(m.slice(o, o + size), g.vars[i]!.shape, "float32"));
        out.set(`${g.spec.name}/${n}/adam_v`, tf.tensor(v.slice(o, o + size), g.vars[i]!.shape, "float32"));
        o += size;
      });
    }
    return out;
  }

  /** Names and shapes `stateTensors()` produces, for validating a loaded file before touching state. */
  stateShapes(): Map<string, number[]> {
    const out = new Map<string, number[]>([["adam/step", [1]]]);
    for (const g of this.groups) {
      g.names.forEach((n, i) => {
        out.set(`${g.spec.name}/${n}/adam_m`, g.vars[i]!.shape);
        out.set(`${g.spec.name}/${n}/adam_v`, g.vars[i]!.shape);
      });
    }
    return out;
  }

  /** Restore from `stateTensors()`-shaped values (validate names and shapes first, e.g. with `stateShapes`). */
  loadStateTensors(state: Map<string, tf.Tensor>): void {
    const get = (key: string) => {
      const x = state.get(key);
      if (!x) throw new ConfigError(`optimizer state: missing ${key}`);
      return x.dataSync() as Float32Array;
    };
    const step = Math.round(get("adam/step")[0]!);
    const loaded = this.groups.map((g) => {
      const total = g.sizes.reduce((a, b) => a + b, 0);
      const m = new Float32Array(total);
      const v = new Float32Array(total);
      let o = 0;
      g.names.forEach((n, i) => {
        m.set(get(`${g.spec.name}/${n}/adam_m`), o);
        v.set(get(`${g.spec.name}/${n}/adam_v`), o);
        o += g.sizes[i]!;
      });
      return [m, v] as const;
    });
    this.groups.forEach((g, gi) => {
      const [m, v] = loaded[gi]!;
      if (g.m instanceof Float32Array) {
        g.m.set(m);
        (g.v as Float32Array).set(v);
      } else {
        const V = g.v as tf.Variable;
        tf.tidy(() => {
          (g.m as tf.Variable).assign(tf.tensor1d(m));
          V.assign(tf.tensor1d(v));
        });
      }
    });
    this.t = step;
  }

  dispose(): void {
    for (const g of this.groups) {
      if (!(g.m instanceof Float32Array)) g.m.dispose();
      if (!(g.v instanceof Float32Array)) g.v.dispose();
    }
  }
}
