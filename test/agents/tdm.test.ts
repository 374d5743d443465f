import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { tdmTrainSchema } from "../../src/agents/qttdm/config.js";
import { ActionBins } from "../../src/agents/qt/bins.js";
import { TdmLearner } from "../../src/agents/tdm/learner.js";
import { KvCache } from "../../src/agents/tdm/incremental.js";
import { resolveTdmArch, Tdm, TDM_PRESETS, type TdmArch } from "../../src/agents/tdm/model.js";
import { selectBackend } from "../../src/backend/index.js";
import { loadConfig } from "../../src/config/load.js";
import { agentOf } from "../helpers/agents.js";
import { Rng } from "../../src/core/rng.js";
import { box, discrete } from "../../src/envs/spaces.js";
import type { SequenceBatch } from "../../src/replay/buffer.js";

beforeAll(async () => {
  await selectBackend("cpu");
});

const tiny: TdmArch = { layers: 1, width: 16, heads: 2, context: 4, headHidden: [16], actionTokens: "per-dim" };

function mlpParams(dims: number[]): number {
  let n = 0;
  for (let i = 0; i + 1 < dims.length; i++) n += dims[i]! * dims[i + 1]! + dims[i + 1]!;
  return n;
}

/** The TDM's parameter count from its architecture (the layout documented in tdm/model.ts). */
function expectedParams(arch: TdmArch, obsDim: number, coder: ActionBins): number {
  const d = arch.width;
  const embedded = coder.discrete || arch.actionTokens === "per-dim";
  const tokens = 1 + (embedded ? coder.dims : 1);
  const act = embedded ? coder.dims * coder.bins * d : coder.dims * d + d;
  const heads = mlpParams([d, ...arch.headHidden, obsDim]) + 2 * mlpParams([d, ...arch.headHidden, 1]);
  return obsDim * d + d + act + arch.context * tokens * d + arch.layers * (12 * d * d + 13 * d) + 2 * d + heads;
}

function randomize(m: Tdm, rng: Rng): void {
  for (const v of m.params().values()) v.assign(tf.tensor(rng.fillNormal(new Float32Array(v.size), 0, 0.2), v.shape));
}

/** Windows of a toy linear system s' = 0.9 s + 0.1 a (first dims), r = s_0, terminating at step 3 of window 0. */
function windows(n: number, L: number, D: number, m: number, rng: Rng): SequenceBatch {
  const obs = new Float32Array(n * L * D);
  const nextObs = new Float32Array(n * L * D);
  const action = new Float32Array(n * L * m);
  const reward = new Float32Array(n * L);
  const terminated = new Uint8Array(n * L);
  const mask = new Uint8Array(n * L);
  for (let b = 0; b < n; b++) {
    const s = rng.fillNormal(new Float32Array(D), 0, 1) as Float32Array;
    const end = b === 0 ? 3 : L - 1;
    for (let t = 0; t <= end; t++) {
      const p = b * L + t;
      mask[p] = 1;
      obs.set(s, p * D);
      for (let k = 0; k < m; k++) action[p * m + k] = rng.uniform(-1, 1);
      reward[p] = s[0]!;
      for (let j = 0; j < D; j++) s[j] = 0.9 * s[j]! + (j < m ? 0.1 * action[p * m + j]! : 0);
      nextObs.set(s, p * D);
      if (b === 0 && t === end) terminated[p] = 1;
    }
  }
  const z = new Float32Array(n);
  return {
    n, len: L, starts: new Int32Array(n), indices: new Int32Array(n * L), mask, weights: new Float32Array(n).fill(1), obs, action, reward,
    nextObs, terminated, truncated: new Uint8Array(n * L), stepInEpisode: new Int32Array(n * L), episodeId: new Int32Array(n), sampledAt: 0,
    info: { step: 0, alpha: 0, beta: 0, isBeta: 0, refreshed: false, tdAbs: z, reliability: z, surprise: z, weights: z },
  };
}

describe("TDM architecture", () => {
  it("resolves presets, explicit numbers and a preset with overrides", () => {
    expect(resolveTdmArch("large")).toEqual(TDM_PRESETS.large);
    expect(resolveTdmArch({ size: "medium", layers: null, width: null, heads: null, context: 4, headHidden: null, actionTokens: "single" }))
      .toEqual({ ...TDM_PRESETS.medium, context: 4, actionTokens: "single" });
    expect(() => resolveTdmArch({ size: "small", layers: null, width: 30, heads: 4, context: null, headHidden: null, actionTokens: null })).toThrow(/not divisible/);
  });

  it("takes agent.tdm from a preset name or explicit numbers in the config", () => {
    expect(agentOf(loadConfig({ set: ["agent.kind=qttdm", "agent.tdm=large"] }), "qttdm").tdm).toBe("large");
    const c = loadConfig({ set: ["agent.kind=qttdm", "agent.tdm={layers: 3, width: 128, heads: 4, context: 8}"] });
    expect(resolveTdmArch(agentOf(c, "qttdm").tdm)).toMatchObject({ layers: 3, width: 128, heads: 4, context: 8, headHidden: TDM_PRESETS.small.headHidden });
    expect(() => loadConfig({ set: ["agent.kind=qttdm", "agent.tdm=huge"] })).toThrow(/agent\.tdm/);
  });

  it("has the parameter count its size says, and swapping sizes changes it", () => {
    const rng = new Rng(1);
    const counts: number[] = [];
    for (const [coder, obsDim] of [[new ActionBins(box(-1, 1, [3]), 7), 5], [new ActionBins(discrete(4), 7), 8]] as const) {
      for (const arch of [tiny, { ...tiny, actionTokens: "single" as const }, { ...tiny, layers: 2, width: 32, context: 6, headHidden: [8, 8] }]) {
        const m = new Tdm("tdm", obsDim, coder, arch, rng);
        expect(m.numParams()).toBe(expectedParams(arch, obsDim, coder));
        counts.push(m.numParams());
        m.dispose();
      }
    }
    expect(new Set(counts).size).toBeGreaterThan(4);
    // The presets, by formula (building `large` would take a while on the cpu backend).
    const coder = new ActionBins(box(-1, 1, [4]), 256);
    const sizes = (["small", "medium", "large"] as const).map((s) => expectedParams(TDM_PRESETS[s], 39, coder));
    expect(sizes[0]).toBeLessThan(sizes[1]!);
    expect(sizes[1]).toBeLessThan(sizes[2]!);
    // The paper reports about 5.6M parameters at obs 39, action 4.
    expect(sizes[2]! / 1e6).toBeGreaterThan(4.5);
    expect(sizes[2]! / 1e6).toBeLessThan(6.5);
  });
});

describe("TDM", () => {
  it("predicts next observations, rewards and termination logits for every step, starting at 'no change'", () => {
    const rng = new Rng(2);
    const m = new Tdm("tdm", 5, new ActionBins(box(-1, 1, [2]), 7), tiny, rng);
    const obs = tf.tensor3d(rng.fillNormal(new Float32Array(3 * 4 * 5), 0, 1), [3, 4, 5]);
    const out = tf.tidy(() => {
      const o = m.apply(obs, m.actionInput(new Float32Array(3 * 4 * 2), [3, 4]));
      return { shapes: [o.nextObs.shape, o.reward.shape, o.termLogit.shape], same: tf.max(tf.abs(tf.sub(o.nextObs, obs))).dataSync()[0] };
    });
    expect(out.shapes).toEqual([[3, 4, 5], [3, 4], [3, 4]]);
    expect(out.same).toBe(0);
    expect(() => tf.tidy(() => m.apply(tf.zeros([1, 5, 5]) as tf.Tensor3D, m.actionInput(new Float32Array(10), [1, 5])).reward)).toThrow(/context of 4/);
    obs.dispose();
    m.dispose();
  });

  it("is causal in time: step t's prediction ignores later observations and actions", () => {
    const rng = new Rng(3);
    for (const actionTokens of ["per-dim", "single"] as const) {
      const m = new Tdm("tdm", 3, new ActionBins(box(-1, 1, [2]), 7), { ...tiny, actionTokens }, rng);
      randomize(m, rng);
      const o1 = rng.fillNormal(new Float32Array(4 * 3), 0, 1) as Float32Array;
      const a1 = rng.fillUniform(new Float32Array(4 * 2), -1, 1) as Float32Array;
      const o2 = o1.slice();
      const a2 = a1.slice();
      for (let j = 6; j < 12; j++) o2[j] = o2[j]! + 1; // steps 2, 3
      for (let j = 4; j < 8; j++) a2[j] = -a2[j]!;
      const run = (o: Float32Array, a: Float32Array) =>
        tf.tidy(() => m.apply(tf.tensor3d(o, [1, 4, 3]), m.actionInput(a, [1, 4])).reward.arraySync() as number[][]);
      const r1 = run(o1, a1)[0]!;
      const r2 = run(o2, a2)[0]!;
      expect(r2.slice(0, 2)).toEqual(r1.slice(0, 2));
      expect(r2[2]).not.toBe(r1[2]);
      m.dispose();
    }
  });

  it("rolls out open loop, feeding its own predictions", () => {
    const rng = new Rng(4);
    const m = new Tdm("tdm", 3, new ActionBins(discrete(3), 7), tiny, rng);
    randomize(m, rng);
    const s0 = tf.tensor2d(rng.fillNormal(new Float32Array(2 * 3), 0, 1), [2, 3]);
    const acts = Int32Array.from([0, 1, 2, 2, 1, 0]);
    tf.tidy(() => {
      const r = m.rollout(s0, m.actionInput(acts, [2, 3]));
      expect([r.reward.shape, r.termProb.shape, r.states.shape]).toEqual([[2, 3], [2, 3], [2, 4, 3]]);
      // Step 1 predicted from [s0, ŝ1] equals a direct two-step window with ŝ1 fed in.
      const s1 = tf.slice(r.states, [0, 1, 0], [2, 1, 3]);
      const direct = m.apply(tf.concat([tf.reshape(s0, [2, 1, 3]), s1], 1) as tf.Tensor3D, m.actionInput(Int32Array.from([0, 1, 2, 1]), [2, 2]));
      const a = tf.slice(direct.reward, [0, 1], [2, 1]).dataSync();
      const b = tf.slice(r.reward, [0, 1], [2, 1]).dataSync();
      for (let i = 0; i < 2; i++) expect(a[i]).toBeCloseTo(b[i]!, 5);
    });
    s0.dispose();
    m.dispose();
  });
});

describe("KvCache", () => {
  it("feeding tokens in chunks (and single tokens by step) gives the hidden states of one causal pass", () => {
    const rng = new Rng(8);
    const m = new Tdm("tdm", 3, new ActionBins(discrete(3), 7), { ...tiny, layers: 2, context: 6 }, rng);
    randomize(m, rng);
    const x = tf.tensor3d(rng.fillNormal(new Float32Array(2 * 7 * 16), 0, 1), [2, 7, 16]);
    const full = tf.tidy(() => m.body.apply(m.pos.apply(x)).arraySync() as number[][][]);
    const cache = new KvCache(m.body, m.pos);
    const before = tf.memory().numTensors;
    const parts: number[][][][] = [];
    for (const [from, n] of [[0, 3], [3, 1], [4, 1], [5, 2]] as const) {
      const h = tf.tidy(() =>
        from === 4 ? tf.reshape(cache.step(tf.reshape(tf.slice(x, [0, from, 0], [2, 1, 16]), [2, 16]) as tf.Tensor2D), [2, 1, 16]) : cache.feed(tf.slice(x, [0, from, 0], [2, n, 16])),
      );
      parts.push(h.arraySync() as number[][][]);
      h.dispose();
    }
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
    for (let b = 0; b < 2; b++) {
      const joined = parts.flatMap((p) => p[b]!);
      joined.forEach((row, t) => row.forEach((v, j) => expect(v).toBeCloseTo(full[b]![t]![j]!, 4)));
    }
    x.dispose();
    m.dispose();
  });

  it("rolls out the same with the cache as by recomputing windows", () => {
    const rng = new Rng(9);
    const coder = new ActionBins(box(-1, 1, [2]), 7);
    const cached = new Tdm("tdm", 3, coder, { ...tiny, context: 4 }, rng);
    randomize(cached, rng);
    // Same weights, but a context of 4 steps for a horizon of 4 with the cache and, for a horizon
    // of 5, recomputed windows from step 4 on: the first 4 steps must agree.
    const s0 = tf.tensor2d(rng.fillNormal(new Float32Array(2 * 3), 0, 1), [2, 3]);
    const acts = rng.fillUniform(new Float32Array(2 * 5 * 2), -1, 1) as Float32Array;
    const four = new Float32Array(2 * 4 * 2);
    for (let b = 0; b < 2; b++) four.set(acts.subarray(b * 10, b * 10 + 8), b * 8);
    const [a, b] = tf.tidy(() => [
      cached.rollout(s0, cached.actionInput(four, [2, 4])).reward.arraySync() as number[][],
      cached.rollout(s0, cached.actionInput(acts, [2, 5])).reward.arraySync() as number[][],
    ]);
    for (let i = 0; i < 2; i++) for (let t = 0; t < 4; t++) expect(b![i]![t]).toBeCloseTo(a![i]![t]!, 4);
    s0.dispose();
    cached.dispose();
  });
});

describe("TdmLearner", () => {
  it("fits a toy system with the rollout loss and keeps the tensor count flat", () => {
    const rng = new Rng(5);
    const cfg = tdmTrainSchema.parse({ lr: 3e-3, rolloutSteps: 2 });
    const learner = new TdmLearner(cfg, 3, new ActionBins(box(-1, 1, [2]), 9), tiny, rng);
    const seq = windows(8, 4, 3, 2, rng);
    const first = learner.update(seq);
    for (const k of ["tdm/loss", "tdm/state_loss", "tdm/reward_loss", "tdm/termination_loss", "tdm/rollout_state_loss", "tdm/grad_norm"]) {
      expect(Number.isFinite(first[k]!), k).toBe(true);
    }
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 40; i++) last = learner.update(seq);
    expect(tf.memory().numTensors).toBe(before);
    expect(last["tdm/loss"]!).toBeLessThan(first["tdm/loss"]!);
    const errs = learner.predictionErrors(seq.obs.subarray(0, 3 * 3), seq.action.subarray(0, 3 * 2) as Float32Array, seq.nextObs.subarray(0, 3 * 3), seq.reward.subarray(0, 3), 3);
    expect(errs.length).toBe(3);
    expect(Array.from(errs).every((e) => e >= 0)).toBe(true);
    learner.dispose();
  });

  it("ignores masked steps", () => {
    const rng = new Rng(6);
    const cfg = tdmTrainSchema.parse({ rolloutSteps: 2 });
    const arch = { ...tiny, context: 6 };
    const a = new TdmLearner(cfg, 3, new ActionBins(box(-1, 1, [2]), 9), arch, new Rng(7));
    const b = new TdmLearner(cfg, 3, new ActionBins(box(-1, 1, [2]), 9), arch, new Rng(7));
    const seq = windows(2, 6, 3, 2, rng);
    // Window 0 ends at step 3: its steps 4 and 5 are masked; fill them with garbage in one copy.
    const dirty = { ...seq, obs: seq.obs.slice(), nextObs: seq.nextObs.slice(), reward: seq.reward.slice() };
    for (let t = 4; t < 6; t++) {
      dirty.reward[t] = 1e3;
      dirty.obs.fill(50, t * 3, t * 3 + 3);
      dirty.nextObs.fill(-50, t * 3, t * 3 + 3);
    }
    expect(a.update(dirty)["tdm/loss"]).toBeCloseTo(b.update(seq)["tdm/loss"]!, 5);
    a.dispose();
    b.dispose();
  });
});
