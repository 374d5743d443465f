/**
 * MPPI / CEM planning over TDM rollouts (TD-MPC style, as QT-TDM).
 *
 * For each observation s, each iteration scores T = samples + proposals action sequences of length H:
 *   G = Σ_{t<H} γ^t A_t r̂_t + γ^H A_H V(ŝ_H),   A_t = Π_{j<t} (1 − p̂_j)  (predicted survival)
 * with r̂, p̂ (termination probability) and ŝ from an open-loop TDM rollout from s, and V the value
 * model at the horizon (max over the QT's first-dimension bins or over the critic's actions).
 * The top `elites` by G get weights w ∝ exp(temperature · (G − max G)) and refit the sampling
 * distribution:
 *   continuous: per step and dimension a Gaussian in unit coordinates, μ = Σ w a, σ = √(Σ w (a − μ)²),
 *     σ clipped to [minStd, maxStd], samples clipped to [−1, 1]; σ starts at maxStd; μ starts from the
 *     previous plan shifted by one step (zeros the first time).
 *   discrete: per step a categorical, p = (1 − minStd)·Σ w·onehot(a) + minStd/|A| (the uniform mix keeps
 *     every action possible), starting from the previous plan shifted, uniform the first time.
 * Proposals: the greedy policy (QT, or the critic for discrete actions) rolled through the TDM; all
 * but the first replace each dimension by a random bin with probability `proposalNoise`. They are
 * computed once per call and scored in every iteration.
 * The executed action is the first step of an elite: the best in greedy mode, drawn by weight when
 * exploring. Planning starts from the current observation only (the agent's `act` does not see
 * episode boundaries, so it keeps no history); the warm start is kept per env copy and mode.
 */
import * as tf from "@tensorflow/tfjs";
import { QttdmError } from "../../core/errors.js";
import type { Rng } from "../../core/rng.js";
import type { PlannerConfig } from "../qttdm/config.js";
import type { ActionBins } from "../qt/bins.js";
import type { Tdm } from "../tdm/model.js";

/** What planning needs of a dynamics model (the TDM; tests may supply a known model). */
export type Dynamics = Pick<Tdm, "obsDim" | "actionInput" | "rollout">;

export interface PlanModels {
  tdm: Dynamics;
  gamma: number;
  /** State value at the horizon, [B]. */
  value: (obs: tf.Tensor2D) => tf.Tensor1D;
  /** Greedy bins [B * dims] (discrete: actions), with optional per-row/per-dimension replacement. */
  policy: ((obs: tf.Tensor2D, noise?: (row: number, dim: number) => number | null) => Int32Array) | null;
}

type Slot = "explore" | "greedy";

export class MppiPlanner {
  /** Warm-start distribution per slot: continuous μ [n * H * m], or discrete p [n * H * A]. */
  private readonly warm = new Map<Slot, Float32Array>();

  constructor(readonly cfg: PlannerConfig, readonly coder: ActionBins, readonly models: PlanModels) {}

  /**
   * Plans for n observations [n * obsDim]; returns unit actions [n * dims] (continuous) or actions [n].
   */
  plan(obs: Float32Array, n: number, slot: Slot, rng: Rng): Float32Array | Int32Array {
    return this.coder.discrete ? this.planDiscrete(obs, n, slot, rng) : this.planContinuous(obs, n, slot, rng);
  }

  /** Sequence count per observation. */
  private get total(): number {
    return this.cfg.samples + (this.models.policy ? this.cfg.proposals : 0);
  }

  private planContinuous(obs: Float32Array, n: number, slot: Slot, rng: Rng): Float32Array {
    const { horizon: H, iterations, samples: S, minStd, maxStd } = this.cfg;
    const m = this.coder.dims;
    const T = this.total;
    const stride = H * m;
    const mean = this.warmStart(slot, n * stride, 0);
    const std = new Float32Array(n * stride).fill(maxStd);
    const proposals = this.proposals(obs, n, rng);
    const P = T - S;
    const acts = new Float32Array(n * T * stride);
    for (let c = 0; c < n; c++) acts.set(proposals.subarray(c * P * stride, (c + 1) * P * stride) as Float32Array, (c * T + S) * stride);
    let chosen: Int32Array = new Int32Array(n);
    for (let it = 0; it < iterations; it++) {
      for (let c = 0; c < n; c++) {
        for (let j = 0; j < S; j++) {
          const o = (c * T + j) * stride;
          for (let k = 0; k < stride; k++) acts[o + k] = clip1(mean[c * stride + k]! + std[c * stride + k]! * rng.normal());
        }
      }
      const G = this.score(obs, n, acts);
      chosen = this.refit(G, n, T, (c, elites, w) => {
        for (let k = 0; k < stride; k++) {
          let mu = 0;
          for (let e = 0; e < elites.length; e++) mu += w[e]! * acts[(c * T + elites[e]!) * stride + k]!;
          let v = 0;
          for (let e = 0; e < elites.length; e++) v += w[e]! * (acts[(c * T + elites[e]!) * stride + k]! - mu) ** 2;
          mean[c * stride + k] = mu;
          std[c * stride + k] = Math.min(maxStd, Math.max(minStd, Math.sqrt(v)));
        }
      }, slot, rng);
    }
    const action = new Float32Array(n * m);
    for (let c = 0; c < n; c++) action.set(acts.subarray((c * T + chosen[c]!) * stride, (c * T + chosen[c]!) * stride + m), c * m);
    this.warm.set(slot, shift(mean, n, H, m, 0));
    return action;
  }

  private planDiscrete(obs: Float32Array, n: number, slot: Slot, rng: Rng): Int32Array {
    const { horizon: H, iterations, samples: S, minStd } = this.cfg;
    const A = this.coder.bins;
    const T = this.total;
    const probs = this.warmStart(slot, n * H * A, 1 / A);
    const proposals = this.proposals(obs, n, rng);
    const P = T - S;
    const acts = new Int32Array(n * T * H);
    for (let c = 0; c < n; c++) acts.set(proposals.subarray(c * P * H, (c + 1) * P * H) as Int32Array, (c * T + S) * H);
    let chosen: Int32Array = new Int32Array(n);
    for (let it = 0; it < iterations; it++) {
      for (let c = 0; c < n; c++) {
        for (let j = 0; j < S; j++) {
          for (let t = 0; t < H; t++) acts[(c * T + j) * H + t] = drawCategorical(probs, (c * H + t) * A, A, rng.random());
        }
      }
      const G = this.score(obs, n, acts);
      chosen = this.refit(G, n, T, (c, elites, w) => {
        for (let t = 0; t < H; t++) {
          const o = (c * H + t) * A;
          probs.fill(minStd / A, o, o + A);
          for (let e = 0; e < elites.length; e++) probs[o + acts[(c * T + elites[e]!) * H + t]!]! += (1 - minStd) * w[e]!;
        }
      }, slot, rng);
    }
    const action = new Int32Array(n);
    for (let c = 0; c < n; c++) action[c] = acts[(c * T + chosen[c]!) * H]!;
    this.warm.set(slot, shift(probs, n, H, A, 1 / A));
    return action;
  }

  private warmStart(slot: Slot, size: number, fill: number): Float32Array {
    const w = this.warm.get(slot);
    // A different number of copies (e.g. evaluation vs training) starts afresh.
    return w && w.length === size ? w.slice() : new Float32Array(size).fill(fill);
  }

  /**
   * Selects elites per observation, normalises their weights and calls `fit`; returns per observation
   * the index of the sequence to execute.
   */
  private refit(G: Float32Array, n: number, T: number, fit: (c: number, elites: Int32Array, w: Float64Array) => void, slot: Slot, rng: Rng): Int32Array {
    const K = Math.min(this.cfg.elites, T);
    const chosen = new Int32Array(n);
    const order = new Int32Array(T);
    for (let c = 0; c < n; c++) {
      for (let j = 0; j < T; j++) order[j] = j;
      const g = G.subarray(c * T, (c + 1) * T);
      order.sort((a, b) => g[b]! - g[a]! || a - b);
      const elites = order.slice(0, K);
      const best = g[elites[0]!]!;
      const w = new Float64Array(K);
      let sum = 0;
      for (let e = 0; e < K; e++) sum += w[e] = Math.exp(this.cfg.temperature * (g[elites[e]!]! - best));
      for (let e = 0; e < K; e++) w[e]! /= sum;
      fit(c, elites, w);
      if (slot === "greedy") chosen[c] = elites[0]!;
      else {
        let u = rng.random();
        let e = 0;
        while (e < K - 1 && (u -= w[e]!) > 0) e++;
        chosen[c] = elites[e]!;
      }
    }
    return chosen;
  }

  /**
   * G of every sequence: acts holds, per observation c and sequence j, H steps of actions
   * (unit coordinates [H * m] or discrete [H]); returns [n * T] (T sequences per observation).
   */
  private score(obs: Float32Array, n: number, acts: Float32Array | Int32Array, H = this.cfg.horizon): Float32Array {
    const { tdm, gamma } = this.models;
    const D = tdm.obsDim;
    const B = acts.length / (H * (this.coder.discrete ? 1 : this.coder.dims));
    const T = B / n;
    const [reward, term, value] = tf.tidy(() => {
      const s0 = tf.tensor2d(repeatRows(obs, n, D, T), [B, D]);
      const r = tdm.rollout(s0, tdm.actionInput(acts, [B, H]));
      const final = tf.reshape(tf.slice(r.states, [0, H, 0], [B, 1, D]), [B, D]) as tf.Tensor2D;
      return [r.reward, r.termProb, this.models.value(final)];
    });
    const rv = reward.dataSync();
    const pv = term.dataSync();
    const vv = value.dataSync();
    tf.dispose([reward, term, value]);
    const G = new Float32Array(B);
    for (let i = 0; i < B; i++) {
      let g = 0;
      let alive = 1;
      let disc = 1;
      for (let t = 0; t < H; t++) {
        g += disc * alive * rv[i * H + t]!;
        alive *= 1 - pv[i * H + t]!;
        disc *= gamma;
      }
      G[i] = g + disc * alive * vv[i]!;
    }
    return G;
  }

  /** QT-proposed sequences for `plan`: `proposals` per observation, all but the first noisy. */
  private proposals(obs: Float32Array, n: number, rng: Rng): Float32Array | Int32Array {
    const P = this.models.policy ? this.cfg.proposals : 0;
    const noise = (row: number) => (row % P > 0 && rng.random() < this.cfg.proposalNoise ? rng.integers(0, this.coder.bins) : null);
    return this.rollPolicy(obs, n, P, this.cfg.horizon, null, noise);
  }

  /**
   * The TDM-predicted return G (as in planning) of H-step segments from each observation that start
   * with the given action and then follow the greedy policy (the consistency term's target).
   * @param first per observation its first action: unit [n * dims] or discrete [n]
   * @returns G [n]
   */
  segmentReturns(obs: Float32Array, n: number, first: Float32Array | Int32Array, H: number): Float32Array {
    return this.score(obs, n, this.rollPolicy(obs, n, 1, H, first, null), H);
  }

  /**
   * Greedy-policy sequences rolled through the TDM, P per observation: unit actions [n * P * H * m]
   * (continuous) or actions [n * P * H] (discrete). `first` fixes step 0 (one row per observation).
   */
  private rollPolicy(
    obs: Float32Array,
    n: number,
    P: number,
    H: number,
    first: Float32Array | Int32Array | null,
    noise: ((row: number, dim: number) => number | null) | null,
  ): Float32Array | Int32Array {
    const policy = this.models.policy;
    const m = this.coder.dims;
    const discrete = this.coder.discrete;
    const B = n * P;
    const w = discrete ? 1 : m;
    const out = discrete ? new Int32Array(B * H) : new Float32Array(B * H * m);
    if (B === 0) return out;
    if (first) for (let i = 0; i < B; i++) for (let k = 0; k < w; k++) out[i * H * w + k] = first[Math.floor(i / P) * w + k]!;
    if (!policy) {
      if (H > 1) throw new QttdmError("rollPolicy: a policy is needed beyond the first step");
      return out;
    }
    const { tdm } = this.models;
    const D = tdm.obsDim;
    const s0 = tf.tensor2d(repeatRows(obs, n, D, P), [B, D]);
    try {
      for (let t = first ? 1 : 0; t < H; t++) {
        // The state at step t: roll the first t actions from s0 (no KV cache: recomputed).
        const state = t === 0 ? s0 : tf.tidy(() => {
          const r = tdm.rollout(s0, tdm.actionInput(selectSteps(out, B, H, w, t), [B, t]));
          return tf.reshape(tf.slice(r.states, [0, t, 0], [B, 1, D]), [B, D]) as tf.Tensor2D;
        });
        const bins = policy(state, noise ?? undefined);
        if (state !== s0) state.dispose();
        if (discrete) for (let i = 0; i < B; i++) out[i * H + t] = bins[i]!;
        else {
          const u = this.coder.binsToUnit(bins);
          for (let i = 0; i < B; i++) for (let k = 0; k < m; k++) out[(i * H + t) * m + k] = u[i * m + k]!;
        }
      }
    } finally {
      s0.dispose();
    }
    return out;
  }

  /** Warm-start state for checkpoints. */
  state(): Record<string, number[]> {
    const s: Record<string, number[]> = {};
    for (const [k, v] of this.warm) s[k] = Array.from(v);
    return s;
  }

  load(s: Record<string, number[]> | undefined): void {
    this.warm.clear();
    for (const [k, v] of Object.entries(s ?? {})) this.warm.set(k as Slot, Float32Array.from(v));
  }
}

function clip1(x: number): number {
  return x < -1 ? -1 : x > 1 ? 1 : x;
}

/** Each of n rows of width d repeated r times in place: [n * r * d]. */
function repeatRows(x: Float32Array, n: number, d: number, r: number): Float32Array {
  const out = new Float32Array(n * r * d);
  for (let c = 0; c < n; c++) for (let j = 0; j < r; j++) out.set(x.subarray(c * d, (c + 1) * d), (c * r + j) * d);
  return out;
}

/** The first t of H steps of B sequences of m-vectors. */
function selectSteps<T extends Float32Array | Int32Array>(a: T, B: number, H: number, m: number, t: number): T {
  const out = (a instanceof Int32Array ? new Int32Array(B * t * m) : new Float32Array(B * t * m)) as T;
  for (let i = 0; i < B; i++) out.set(a.subarray(i * H * m, i * H * m + t * m), i * t * m);
  return out;
}

/** Drops the first of H steps of n plans of width w and appends `fill` (the warm start of the next call). */
function shift(x: Float32Array, n: number, H: number, w: number, fill: number): Float32Array {
  const out = new Float32Array(x.length).fill(fill);
  for (let c = 0; c < n; c++) out.set(x.subarray(c * H * w + w, (c + 1) * H * w), c * H * w);
  return out;
}

function drawCategorical(p: Float32Array, offset: number, A: number, u: number): number {
  let acc = 0;
  for (let a = 0; a < A - 1; a++) {
    acc += p[offset + a]!;
    if (u < acc) return a;
  }
  return A - 1;
}
