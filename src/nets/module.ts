/**
 * Parameter containers. A `Module` owns `tf.Variable`s under stable slash-separated names
 * (e.g. `encoder/dense0/kernel`) so that weight I/O, target-network copies and optimiser parameter
 * groups can address them. Names live in our own maps, not in tfjs's global variable registry:
 * an online and a target network may then carry identical names.
 *
 * Initial values come from the project `Rng`, so initialisation depends only on the seed passed in,
 * never on tfjs's global random state.
 */
import * as tf from "@tensorflow/tfjs";
import { ConfigError, show } from "../core/errors.js";
import type { Rng } from "../core/rng.js";

/** Named parameters, in a stable (insertion) order. */
export type ParamMap = Map<string, tf.Variable>;

/**
 * How a weight tensor is initialised.
 * - `fan_in_uniform`: U(-1/√fan_in, 1/√fan_in), PyTorch's default for `nn.Linear` weight and bias.
 * - `glorot_uniform`: U(-√(6/(fan_in+fan_out)), +…).
 * - `he_normal`: N(0, 2/fan_in).
 * - `normal`: N(0, std²) (embeddings: std 0.02 as GPT).
 * - `zeros` / `ones`.
 */
export type InitSpec =
  | "fan_in_uniform"
  | "glorot_uniform"
  | "he_normal"
  | "zeros"
  | "ones"
  | { kind: "normal"; std: number }
  | { kind: "uniform"; limit: number };

/**
 * Fill a new Float32Array of `size` values for a tensor with the given fan-in/fan-out.
 */
export function initValues(spec: InitSpec, size: number, fanIn: number, fanOut: number, rng: Rng): Float32Array {
  const out = new Float32Array(size);
  if (spec === "zeros") return out;
  if (spec === "ones") return out.fill(1);
  if (spec === "fan_in_uniform") {
    const l = 1 / Math.sqrt(fanIn);
    return rng.fillUniform(out, -l, l) as Float32Array;
  }
  if (spec === "glorot_uniform") {
    const l = Math.sqrt(6 / (fanIn + fanOut));
    return rng.fillUniform(out, -l, l) as Float32Array;
  }
  if (spec === "he_normal") return rng.fillNormal(out, 0, Math.sqrt(2 / fanIn)) as Float32Array;
  if (spec.kind === "normal") return rng.fillNormal(out, 0, spec.std) as Float32Array;
  if (spec.kind === "uniform") return rng.fillUniform(out, -spec.limit, spec.limit) as Float32Array;
  throw new ConfigError(`init: got ${show(spec)}, expected fan_in_uniform, glorot_uniform, he_normal, zeros, ones, {kind:"normal"} or {kind:"uniform"}`);
}

/** Join name segments with "/", skipping empty ones. */
export function joinName(...parts: string[]): string {
  return parts.filter((p) => p.length > 0).join("/");
}

/**
 * Base class for layers and models. Subclasses create parameters with `addParam` and sub-modules with
 * `addChild`; `params()` then lists every variable under its full name (`<module>/<child>/<local>`).
 */
export abstract class Module {
  private readonly own = new Map<string, tf.Variable>();
  private readonly children: Module[] = [];

  /** @param name this module's name segment (may be "" for an anonymous wrapper). */
  constructor(readonly name: string) {}

  /** Create a trainable float32 variable named `<this.name>/<local>` with values from `init`. */
  protected addParam(local: string, shape: number[], init: InitSpec, rng: Rng, fanIn?: number, fanOut?: number): tf.Variable {
    if (this.own.has(local)) throw new ConfigError(`module ${show(this.name)}: parameter ${show(local)} defined twice`);
    const size = shape.reduce((a, b) => a * b, 1);
    const fi = fanIn ?? (shape.length >= 2 ? shape[shape.length - 2]! : shape[0] ?? 1);
    const fo = fanOut ?? shape[shape.length - 1] ?? 1;
    const values = initValues(init, size, fi, fo, rng);
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape, "float32"), true));
    this.own.set(local, v);
    return v;
  }

  protected addChild<M extends Module>(child: M): M {
    this.children.push(child);
    return child;
  }

  /** Every parameter of this module and its children under full names, in creation order. */
  params(): ParamMap {
    const out: ParamMap = new Map();
    this.collect("", out);
    return out;
  }

  private collect(prefix: string, out: ParamMap): void {
    const base = joinName(prefix, this.name);
    for (const [k, v] of this.own) out.set(joinName(base, k), v);
    for (const c of this.children) c.collect(base, out);
  }

  /** Total number of scalar parameters. */
  numParams(): number {
    let n = 0;
    for (const v of this.params().values()) n += v.size;
    return n;
  }

  /** Free every variable of this module and its children. */
  dispose(): void {
    for (const v of this.params().values()) v.dispose();
  }
}

/**
 * The parameters whose names match: a string selects a name or a `/`-separated prefix of it
 * ("encoder" matches "encoder/dense0/kernel" but not "encoder2/…"); a RegExp is tested against the name.
 * Used to build optimiser parameter groups.
 */
export function selectParams(params: ParamMap, match: string | RegExp): ParamMap {
  const ok = typeof match === "string" ? (n: string) => n === match || n.startsWith(match + "/") : (n: string) => match.test(n);
  return new Map([...params].filter(([n]) => ok(n)));
}
