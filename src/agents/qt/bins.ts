/**
 * Action coding shared by the TDM, the Q-Transformer and the planner.
 *
 * A discrete space Discrete(n) is one dimension of n "bins" (the actions themselves). A Box of m
 * dimensions is m dimensions of `bins` uniform bins each: bin b of dimension k stands for
 * low_k + (high_k − low_k)·b/(bins − 1), so the end bins are the bounds (as the QT-TDM code's
 * uniform grid on [−1, 1]). Inside the agent continuous actions live in unit coordinates
 * u ∈ [−1, 1]^m (u = −1 at low, +1 at high); the env gets `toEnv(u)`.
 */
import { ConfigError, show } from "../../core/errors.js";
import type { Space } from "../../envs/spaces.js";

export class ActionBins {
  /** Action dimensions (1 for a discrete space). */
  readonly dims: number;
  /** Bins per dimension (n for a discrete space). */
  readonly bins: number;
  readonly discrete: boolean;
  readonly low: Float32Array;
  readonly high: Float32Array;

  constructor(space: Space, continuousBins: number) {
    if (space.kind === "discrete") {
      this.discrete = true;
      this.dims = 1;
      this.bins = space.n;
      this.low = new Float32Array(1);
      this.high = new Float32Array(1);
      return;
    }
    this.discrete = false;
    this.dims = space.low.length;
    if (!Number.isInteger(continuousBins) || continuousBins < 2) {
      throw new ConfigError(`config key "agent.qt.bins": got ${show(continuousBins)}; expected an integer >= 2`);
    }
    this.bins = continuousBins;
    for (let k = 0; k < this.dims; k++) {
      if (!Number.isFinite(space.low[k]!) || !Number.isFinite(space.high[k]!) || !(space.high[k]! > space.low[k]!)) {
        throw new ConfigError(`action space dimension ${k}: bounds [${space.low[k]}, ${space.high[k]}] must be finite with high > low to be binned`);
      }
    }
    this.low = space.low.slice();
    this.high = space.high.slice();
  }

  /** Env actions [count * dims] → unit coordinates, clipped to [−1, 1]. */
  toUnit(actions: ArrayLike<number>, count: number): Float32Array {
    const m = this.dims;
    const u = new Float32Array(count * m);
    for (let i = 0; i < count; i++) {
      for (let k = 0; k < m; k++) {
        const v = (2 * (actions[i * m + k]! - this.low[k]!)) / (this.high[k]! - this.low[k]!) - 1;
        u[i * m + k] = Math.min(1, Math.max(-1, v));
      }
    }
    return u;
  }

  /** Unit coordinates → env actions. */
  toEnv(u: ArrayLike<number>, count: number): Float32Array {
    const m = this.dims;
    const a = new Float32Array(count * m);
    for (let i = 0; i < count; i++) {
      for (let k = 0; k < m; k++) a[i * m + k] = this.low[k]! + ((u[i * m + k]! + 1) / 2) * (this.high[k]! - this.low[k]!);
    }
    return a;
  }

  /** Nearest bin of each unit coordinate. */
  unitToBins(u: ArrayLike<number>): Int32Array {
    const out = new Int32Array(u.length);
    const top = this.bins - 1;
    for (let i = 0; i < u.length; i++) out[i] = Math.min(top, Math.max(0, Math.round(((u[i]! + 1) / 2) * top)));
    return out;
  }

  /** Bin centres in unit coordinates. */
  binsToUnit(b: ArrayLike<number>): Float32Array {
    const out = new Float32Array(b.length);
    const top = this.bins - 1;
    for (let i = 0; i < b.length; i++) out[i] = (2 * b[i]!) / top - 1;
    return out;
  }

  /** Replay actions (discrete ints or env floats) → bins [count * dims]. */
  replayToBins(actions: Int32Array | Float32Array, count: number): Int32Array {
    if (this.discrete) return Int32Array.from(actions);
    return this.unitToBins(this.toUnit(actions, count));
  }
}
