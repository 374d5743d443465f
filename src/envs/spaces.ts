/** Gymnasium-style action and observation spaces. */
import type { Rng } from "../core/rng.js";

export interface Discrete {
  kind: "discrete";
  /** Number of actions; valid actions are the integers 0..n-1. */
  n: number;
}

export interface Box {
  kind: "box";
  shape: number[];
  /** Lower bounds, one per element (may be -Infinity). */
  low: Float32Array;
  /** Upper bounds, one per element (may be +Infinity). */
  high: Float32Array;
}

export type Space = Discrete | Box;

export function discrete(n: number): Discrete {
  return { kind: "discrete", n };
}

export function box(low: number | ArrayLike<number>, high: number | ArrayLike<number>, shape: number[]): Box {
  const size = shape.reduce((a, b) => a * b, 1);
  const fill = (v: number | ArrayLike<number>) =>
    typeof v === "number" ? new Float32Array(size).fill(v) : Float32Array.from(v as ArrayLike<number>);
  const b: Box = { kind: "box", shape, low: fill(low), high: fill(high) };
  if (b.low.length !== size || b.high.length !== size) {
    throw new RangeError(`box bounds must have ${size} elements for shape [${shape}]`);
  }
  return b;
}

/** Number of scalars in one element of the space (1 for Discrete). */
export function flatSize(space: Space): number {
  return space.kind === "discrete" ? 1 : space.shape.reduce((a, b) => a * b, 1);
}

/** A uniformly random element, drawn from `rng` (Box bounds must be finite). */
export function sampleSpace(space: Space, rng: Rng): number | Float32Array {
  if (space.kind === "discrete") return rng.integers(0, space.n);
  const out = new Float32Array(space.low.length);
  for (let i = 0; i < out.length; i++) out[i] = rng.uniform(space.low[i]!, space.high[i]!);
  return out;
}

export function describeSpace(space: Space): string {
  if (space.kind === "discrete") return `Discrete(${space.n})`;
  const lo = uniformOrList(space.low);
  const hi = uniformOrList(space.high);
  return `Box(${lo}, ${hi}, [${space.shape.join(", ")}], float32)`;
}

function uniformOrList(a: Float32Array): string {
  const fmt = (v: number) => (v === Infinity ? "inf" : v === -Infinity ? "-inf" : String(Number(v.toPrecision(6))));
  return a.every((v) => v === a[0]) ? fmt(a[0]!) : `[${Array.from(a, fmt).join(", ")}]`;
}
