import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import { ConfigError, DivergenceError } from "../../src/core/errors.js";
import { ReplayBuffer, type ReplayConfigInput } from "../../src/replay/buffer.js";
import { replayConfig, replayConfigSchema } from "../../src/replay/config.js";
import { sampleTelemetry } from "../../src/replay/telemetry.js";
import { FakeVecEnv, OBS_DIM, SPEC, obsValue, rewardValue } from "./helpers.js";

function filled(config: ReplayConfigInput, vecSteps: number, envs = 4, seed = 1, maxLen = 12): { buf: ReplayBuffer; env: FakeVecEnv } {
  const env = new FakeVecEnv(envs, seed, maxLen);
  const buf = new ReplayBuffer(SPEC, config);
  for (let s = 0; s < vecSteps; s++) buf.add(env.step());
  return { buf, env };
}

/** Report deterministic pseudo TD errors for a batch of indices. */
function tdFor(indices: Int32Array, rng: Rng): Float32Array {
  return Float32Array.from(indices, () => rng.normal() * 2);
}

const SQRT_PI_2 = Math.sqrt(Math.PI) / 2;

describe("config", () => {
  it("fills every default and rejects unknown keys", () => {
    const c = replayConfig();
    expect(c.sampler).toBe("reaper");
    expect(c.reaperAlphaStart).toBe(0.7);
    expect(c.reaperBetaEnd).toBe(0.5);
    expect(replayConfigSchema.safeParse({ capacty: 3 }).success).toBe(false);
    expect(() => new ReplayBuffer(SPEC, { alpha: 2 })).toThrow(ConfigError);
    expect(() => new ReplayBuffer(SPEC, { alpha: 2 })).toThrow(/replay\.alpha/);
  });
});

describe("sampling", () => {
  it("draws PER samples in proportion to (|δ| + ε)^α and weights them by (N·P)^−β / max w", () => {
    const { buf } = filled({ capacity: 64, sampler: "per", alpha: 0.6, isBetaStart: 0.4, isBetaSteps: 0 }, 16);
    const rng = new Rng(2);
    const all = Int32Array.from({ length: 64 }, (_, i) => i);
    const td = Float32Array.from(all, (i) => (i % 7) * 0.3 + (i === 5 ? 4 : 0));
    buf.updatePriorities(all, { tdError: td });
    const q = Array.from(td, (d) => Math.pow(Math.abs(d) + 1e-6, 0.6));
    const sum = q.reduce((a, b) => a + b, 0);
    for (let i = 0; i < 64; i++) expect(buf.probability(i)).toBeCloseTo(q[i]! / sum, 6);
    const counts = new Float64Array(64);
    const draws = 100_000;
    for (let k = 0; k < draws / 100; k++) {
      const b = buf.sample(100, rng, 0);
      for (const i of b.indices) counts[i]!++;
      // isBetaSteps 0: β is at its end value 1 (beta annealing finished).
      const minP = Math.min(...q) / sum;
      for (let j = 0; j < (k < 10 ? 100 : 0); j++) {
        const p = q[b.indices[j]!]! / sum;
        expect(b.weights[j]).toBeCloseTo(Math.pow(64 * p, -1) / Math.pow(64 * minP, -1), 5);
      }
    }
    let chi = 0;
    for (let i = 0; i < 64; i++) {
      const e = (draws * q[i]!) / sum;
      chi += (counts[i]! - e) ** 2 / e;
    }
    expect(chi).toBeLessThan(103.4); // df 63, p = 0.001
  });

  it("PER's priorities follow the reports whatever the reliability estimator", () => {
    for (const reliability of ["td-spread", "episode", "ensemble"] as const) {
      const { buf } = filled({ capacity: 64, sampler: "per", alpha: 0.6, reliability }, 16);
      const all = Int32Array.from({ length: 64 }, (_, i) => i);
      const td = Float32Array.from(all, (i) => (i % 7) * 0.3 - 1);
      buf.updatePriorities(all, { tdError: td, tdStd: new Float32Array(64).fill(0.1) });
      const q = Array.from(td, (d) => Math.pow(Math.abs(d) + 1e-6, 0.6));
      const sum = q.reduce((a, b) => a + b, 0);
      for (let i = 0; i < 64; i++) expect(buf.probability(i), reliability).toBeCloseTo(q[i]! / sum, 6);
    }
  });

  it("anneals the IS β and can switch IS correction off", () => {
    const { buf } = filled({ capacity: 64, sampler: "per", isBetaStart: 0.4, isBetaEnd: 1, isBetaSteps: 100 }, 16);
    const all = Int32Array.from({ length: 64 }, (_, i) => i);
    buf.updatePriorities(all, { tdError: Float32Array.from(all, (i) => i) });
    expect(buf.sample(8, new Rng(1), 0).info.isBeta).toBeCloseTo(0.4);
    expect(buf.sample(8, new Rng(1), 50).info.isBeta).toBeCloseTo(0.7);
    const off = filled({ capacity: 64, sampler: "per", isCorrection: false }, 16).buf;
    off.updatePriorities(all, { tdError: Float32Array.from(all, (i) => i) });
    expect(Array.from(off.sample(32, new Rng(1)).weights).every((w) => w === 1)).toBe(true);
  });

  it("uniform sampling returns unit weights and keeps no tree", () => {
    const { buf } = filled({ capacity: 100, sampler: "uniform" }, 10);
    expect(buf.tree).toBeNull();
    const b = buf.sample(50, new Rng(1));
    expect(Array.from(b.weights).every((w) => w === 1)).toBe(true);
    expect(Math.max(...b.indices)).toBeLessThan(40);
  });

  it("draws reference observations uniformly whatever the priorities, leaving the sampler's state and counts alone", () => {
    const { buf, env } = filled({ capacity: 64, sampler: "per", alpha: 1 }, 16);
    const all = Int32Array.from({ length: 64 }, (_, i) => i);
    buf.updatePriorities(all, { tdError: Float32Array.from(all, (i) => (i === 5 ? 1000 : 0.01)) });
    const state = structuredClone(buf.samplerState());
    const counts = buf.statistic("timesSampled").slice();
    const stored = new Set<string>();
    for (const [e, info] of env.episodes) for (let t = 0; t < info.length; t++) stored.add(String(obsValue(e, t, 0)) + "," + String(obsValue(e, t, 1)));
    const hits = new Map<string, number>();
    const draws = 64_000;
    const obs = buf.sampleObservations(draws, new Rng(4));
    for (let j = 0; j < draws; j++) {
      const key = `${obs[j * OBS_DIM]},${obs[j * OBS_DIM + 1]}`;
      expect(stored.has(key)).toBe(true);
      hits.set(key, (hits.get(key) ?? 0) + 1);
    }
    // 64 stored transitions, ~1,000 draws each: none (not even the heavily prioritised one) far off.
    expect(hits.size).toBe(64);
    for (const n of hits.values()) expect(Math.abs(n - 1000)).toBeLessThan(150);
    expect(buf.samplerState()).toEqual(state);
    expect(buf.statistic("timesSampled")).toEqual(counts);
    expect(() => new ReplayBuffer(SPEC, {}).sampleObservations(4, new Rng(1))).toThrow(/empty/);
  });

  it("returns columns that match the stored transitions", () => {
    const { buf, env } = filled({ capacity: 200, sampler: "per" }, 30);
    const b = buf.sample(64, new Rng(3));
    for (let j = 0; j < 64; j++) {
      const e = b.episodeId[j]!;
      const t = b.stepInEpisode[j]!;
      const info = env.episodes.get(e)!;
      for (let k = 0; k < OBS_DIM; k++) {
        expect(b.obs[j * OBS_DIM + k]).toBe(obsValue(e, t, k));
        expect(b.nextObs[j * OBS_DIM + k]).toBe(obsValue(e, t + 1, k));
      }
      expect(b.reward[j]).toBe(rewardValue(e, t));
      expect(b.action[j]).toBe((e + t) % 4);
      expect(b.terminated[j]).toBe(t + 1 === info.length && info.terminated ? 1 : 0);
      expect(b.discount[j]).toBeCloseTo(0.9);
      expect(b.returns).toBe(b.reward);
    }
  });

  it("computes n-step returns that stop at termination, bootstrap through truncation and at the latest stored step", () => {
    const { buf, env } = filled({ capacity: 5000, sampler: "uniform", nStep: 3 }, 100, 3, 7, 8);
    const b = buf.sample(500, new Rng(4));
    let sawTerm = 0;
    let sawTrunc = 0;
    let sawOpen = 0;
    for (let j = 0; j < 500; j++) {
      const e = b.episodeId[j]!;
      const t0 = b.stepInEpisode[j]!;
      const info = env.episodes.get(e)!;
      // Steps of this episode stored so far (the env may still be running it).
      let storedLast = -1;
      for (let i = 0; i < buf.size; i++) if (buf.store.episodeOf(i) === e) storedLast = Math.max(storedLast, buf.store.stepOf(i));
      let g = 0;
      let k = 0;
      let t = t0;
      let done = 0;
      for (;;) {
        g += 0.9 ** k * rewardValue(e, t);
        k++;
        const last = t + 1 === info.length;
        if (last && info.terminated) {
          done = 1;
          sawTerm++;
          break;
        }
        if (last) {
          sawTrunc++;
          break;
        }
        if (k === 3) break;
        if (t === storedLast) {
          sawOpen++;
          break;
        }
        t++;
      }
      expect(b.returns[j]).toBeCloseTo(g, 5);
      expect(b.discount[j]).toBeCloseTo(0.9 ** k, 6);
      expect(b.done[j]).toBe(done);
      for (let q = 0; q < OBS_DIM; q++) expect(b.bootstrapObs[j * OBS_DIM + q]).toBe(obsValue(e, t + 1, q));
    }
    expect(sawTerm).toBeGreaterThan(10);
    expect(sawTrunc).toBeGreaterThan(3);
    expect(sawOpen).toBeGreaterThan(0);
  });

  it("sequence windows stay inside one episode, with masks after its end, across ring wrap-around", () => {
    const { buf, env } = filled({ capacity: 97, sampler: "per", sequenceStart: "uniform" }, 200, 5, 11, 15);
    const rng = new Rng(5);
    let masked = 0;
    for (let r = 0; r < 20; r++) {
      const s = buf.sampleSequences(16, 6, rng);
      for (let b = 0; b < 16; b++) {
        const e = s.episodeId[b]!;
        const t0 = s.stepInEpisode[b * 6]!;
        let open = true;
        for (let t = 0; t < 6; t++) {
          const p = b * 6 + t;
          if (!open) {
            expect(s.mask[p]).toBe(0);
            expect(s.indices[p]).toBe(-1);
            expect(s.reward[p]).toBe(0);
            masked++;
            continue;
          }
          expect(s.mask[p]).toBe(1);
          const i = s.indices[p]!;
          expect(buf.store.episodeOf(i)).toBe(e);
          expect(s.stepInEpisode[p]).toBe(t0 + t);
          expect(s.obs[p * OBS_DIM + 1]).toBe(t0 + t);
          expect(s.obs[p * OBS_DIM]).toBe(e);
          expect(s.reward[p]).toBe(rewardValue(e, t0 + t));
          const ended = t0 + t + 1 === env.episodes.get(e)!.length;
          expect(s.terminated[p] + s.truncated[p]).toBe(ended ? 1 : 0);
          // The window goes on exactly when the episode goes on and its next step is stored.
          open = !ended && buf.store.next(i) >= 0;
        }
      }
    }
    expect(masked).toBeGreaterThan(50);
  });

  it("a batch stays valid and unchanged after later samples and updates (arena memory is never reused)", () => {
    const { buf } = filled({ capacity: 256, sampler: "per", nStep: 2 }, 64);
    const rng = new Rng(8);
    const tdr = new Rng(9);
    const first = buf.sample(64, rng, 0);
    const snapshot = (b: typeof first) => ({
      columns: [b.indices, b.weights, b.obs, b.action, b.reward, b.nextObs, b.terminated, b.returns, b.bootstrapObs, b.discount, b.done].map((a) => Array.from(a)),
      info: [b.info.tdAbs, b.info.reliability, b.info.surprise].map((a) => Array.from(a)),
    });
    const before = snapshot(first);
    // Enough draws to pass through several arena slabs (about 8 KB per batch here, 1 MiB per slab).
    for (let k = 0; k < 400; k++) {
      const b = buf.sample(64, rng, k);
      buf.updatePriorities(b.indices, { tdError: tdFor(b.indices, tdr) }, b.sampledAt);
      if (k === 0) expect(b.obs.buffer === first.obs.buffer && b.obs.byteOffset !== first.obs.byteOffset).toBe(true);
    }
    expect(snapshot(first)).toEqual(before);
    // An array above a quarter slab (256 KiB) gets an ArrayBuffer of its own.
    const big = buf.sample(20_000, rng, 0);
    expect(big.obs.buffer.byteLength).toBe(20_000 * OBS_DIM * 4);
    expect(big.reward.buffer).not.toBe(big.obs.buffer);
  });

  it("recycled draws equal fresh ones, reuse one region per kind, and leave fresh batches alone", () => {
    const config: ReplayConfigInput = { capacity: 300, sampler: "reaper", nStep: 3 };
    const fresh = filled(config, 90, 5, 11, 15).buf;
    const recycled = filled(config, 90, 5, 11, 15).buf;
    const [rngF, rngR, tdF, tdR] = [new Rng(4), new Rng(4), new Rng(6), new Rng(6)];
    const columns = (b: ReturnType<typeof fresh.sample>) =>
      [b.indices, b.weights, b.obs, b.action, b.reward, b.nextObs, b.terminated, b.truncated, b.returns, b.bootstrapObs, b.discount, b.done, b.info.tdAbs, b.info.reliability].map((a) => Array.from(a));
    const windows = (s: ReturnType<typeof fresh.sampleSequences>) =>
      [s.indices, s.mask, s.weights, s.obs, s.action, s.reward, s.nextObs, s.terminated, s.stepInEpisode, s.episodeId].map((a) => Array.from(a));
    const kept = recycled.sample(8, new Rng(99), 0);
    const keptColumns = columns(kept);
    let previous: ReturnType<typeof fresh.sample> | null = null;
    for (let k = 0; k < 30; k++) {
      const a = fresh.sample(32, rngF, k);
      const b = recycled.sample(32, rngR, k, { recycle: true });
      expect(columns(b)).toEqual(columns(a));
      if (previous) expect(b.obs.buffer === previous.obs.buffer && b.obs.byteOffset === previous.obs.byteOffset).toBe(true);
      previous = b;
      fresh.updatePriorities(a.indices, { tdError: tdFor(a.indices, tdF) }, a.sampledAt);
      recycled.updatePriorities(b.indices, { tdError: tdFor(b.indices, tdR) }, b.sampledAt);
      // Windows of different lengths: a shorter batch over a longer one's region must read as zero where masked.
      const len = k % 2 === 0 ? 9 : 4;
      expect(windows(recycled.sampleSequences(6, len, rngR, k, { recycle: true }))).toEqual(windows(fresh.sampleSequences(6, len, rngF, k)));
    }
    expect(columns(kept)).toEqual(keptColumns);
  });

  it("skips stale indices that the ring overwrote since sampling", () => {
    const env = new FakeVecEnv(2, 3);
    const buf = new ReplayBuffer(SPEC, { capacity: 20, sampler: "per" });
    for (let s = 0; s < 10; s++) buf.add(env.step());
    const b = buf.sample(8, new Rng(1));
    for (let s = 0; s < 3; s++) buf.add(env.step()); // overwrites indices 0..5
    const res = buf.updatePriorities(b.indices, { tdError: new Float32Array(8).fill(3) }, b.sampledAt);
    const overwritten = Array.from(b.indices).filter((i) => i < 6).length;
    expect(res.stale).toBe(overwritten);
    expect(res.updated).toBe(8 - overwritten);
    const lastTd = buf.statistic("tdError");
    for (const i of b.indices) expect(Number.isNaN(lastTd[i]!)).toBe(i < 6);
    expect(() => buf.updatePriorities(b.indices, { tdError: new Float32Array(8).fill(NaN) })).toThrow(DivergenceError);
  });

  it("reports telemetry of what was drawn", () => {
    const { buf } = filled({ capacity: 64, sampler: "per" }, 16);
    const all = Int32Array.from({ length: 64 }, (_, i) => i);
    buf.updatePriorities(all, { tdError: Float32Array.from(all, (i) => (i % 2 ? -1 : 1) * i), surprise: new Float32Array(64).fill(0.25) });
    const b = buf.sample(32, new Rng(1));
    const { scalars, reliabilities } = sampleTelemetry(b.info);
    expect(scalars.alpha).toBe(0.6);
    expect(scalars.surpriseMean).toBeCloseTo(0.25);
    expect(scalars.unreportedFrac).toBe(0);
    expect(scalars.tdAbsMean).toBeCloseTo(Array.from(b.indices).reduce((a, i) => a + i, 0) / 32, 4);
    expect(scalars.isWeightMin).toBeGreaterThan(0);
    expect(reliabilities.length).toBe(32);
  });
});

describe("ReaPER+", () => {
  it("at t = 0 behaves exactly like PER with α = 0.7", () => {
    const a = filled({ capacity: 128, sampler: "reaper", refreshEvery: 0 }, 40, 4, 3).buf;
    const p = filled({ capacity: 128, sampler: "per", alpha: 0.7 }, 40, 4, 3).buf;
    const ra = new Rng(8);
    const rp = new Rng(8);
    const tdr = new Rng(9);
    for (let r = 0; r < 30; r++) {
      const ba = a.sample(16, ra, 0);
      const bp = p.sample(16, rp, 0);
      expect(Array.from(ba.indices)).toEqual(Array.from(bp.indices));
      expect(Array.from(ba.weights)).toEqual(Array.from(bp.weights));
      const td = tdFor(ba.indices, tdr);
      a.updatePriorities(ba.indices, { tdError: td });
      p.updatePriorities(bp.indices, { tdError: td });
    }
    for (let i = 0; i < 128; i++) expect(a.probability(i)).toBe(p.probability(i));
  });

  it("at the end of the horizon matches (|δ|+ε)^0.1 · (1−ρ)^0.5 with the td-spread normalisation", () => {
    const { buf } = filled({ capacity: 60, sampler: "reaper", reaperHorizon: 100, spreadRate: 0.5 }, 15);
    const rng = new Rng(1);
    const tdr = new Rng(2);
    // The test's own record of every report, to recompute ρ independently.
    const history = new Map<number, number[]>();
    for (let step = 0; step < 100; step++) {
      const b = buf.sample(20, rng, step);
      const td = tdFor(b.indices, tdr);
      buf.updatePriorities(b.indices, { tdError: td });
      b.indices.forEach((i, j) => history.set(i, [...(history.get(i) ?? []), td[j]!]));
    }
    const b = buf.sample(4, rng, 100);
    expect(b.info.alpha).toBe(0.1);
    expect(b.info.beta).toBe(0.5);
    const u = new Float64Array(60).fill(NaN);
    for (const [i, h] of history) {
      for (let k = 1; k < h.length; k++) {
        const x = SQRT_PI_2 * Math.abs(Math.fround(h[k]!) - Math.fround(h[k - 1]!));
        u[i] = Number.isNaN(u[i]!) ? x : Math.fround(u[i]! + 0.5 * (x - u[i]!));
      }
    }
    const known = Array.from(u).filter((x) => !Number.isNaN(x));
    expect(known.length).toBeGreaterThan(30);
    const ubar = known.reduce((a, x) => a + x, 0) / known.length;
    let maxP = 1;
    for (const h of history.values()) for (const d of h) maxP = Math.max(maxP, Math.abs(Math.fround(d)) + 1e-6);
    const q = Array.from({ length: 60 }, (_, i) => {
      const h = history.get(i);
      const p = h ? Math.abs(Math.fround(h[h.length - 1]!)) + 1e-6 : maxP;
      const rel = Number.isNaN(u[i]!) ? 0.5 : ubar / (u[i]! + ubar);
      expect(buf.reliability(i)).toBeCloseTo(rel, 5);
      return Math.pow(p, 0.1) * Math.pow(rel, 0.5);
    });
    const sum = q.reduce((a, x) => a + x, 0);
    for (let i = 0; i < 60; i++) expect(Math.abs(buf.probability(i) - q[i]! / sum)).toBeLessThan(1e-6 * (q[i]! / sum));
  });

  it("refreshes on the documented cadence", () => {
    const { buf } = filled({ capacity: 40, sampler: "reaper", reaperHorizon: 1000, refreshTolerance: 0.1, refreshEvery: 0, refreshNormTolerance: 1e9 }, 10);
    const rng = new Rng(1);
    const refreshedAt: number[] = [];
    for (let step = 0; step <= 1100; step += 10) if (buf.sample(4, rng, step).info.refreshed) refreshedAt.push(step);
    // α moves 0.6 over 1000 steps: more than 0.1 every ~170 steps, plus one landing at the end.
    expect(refreshedAt).toEqual([170, 340, 510, 680, 850, 1000]);
    const byCount = filled({ capacity: 40, sampler: "reaper", reliability: "episode", reaperHorizon: 0, refreshEvery: 5 }, 10).buf;
    const flags: boolean[] = [];
    for (let k = 0; k < 12; k++) {
      const b = byCount.sample(4, rng, k);
      flags.push(b.info.refreshed);
      byCount.updatePriorities(b.indices, { tdError: new Float32Array(4).fill(1) });
    }
    expect(flags.map(Number).join("")).toBe("100001000010");
  });

  it("episode estimator: ρ_t = Σ_{i>t} δ⁺ / D, D the episode total or the largest ended total", () => {
    const { buf } = filled({ capacity: 300, sampler: "reaper", reliability: "episode", reaperHorizon: 0 }, 30, 3, 4, 10);
    const all = Int32Array.from({ length: buf.size }, (_, i) => i);
    const td = Float32Array.from(all, (i) => ((i * 37) % 11) - 5);
    buf.updatePriorities(all, { tdError: td });
    buf.sample(4, new Rng(1), 0);
    const st = buf.store;
    const ep = st.episodes;
    let maxEnded = 0;
    ep.forEach((s) => {
      let tot = 0;
      for (let i = 0; i < buf.size; i++) if (st.episodeOf(i) === ep.id[s]) tot += Math.abs(td[i]!) + 1e-6;
      if (ep.finished[s]) maxEnded = Math.max(maxEnded, tot);
    });
    let openSeen = 0;
    ep.forEach((s) => {
      const members = Array.from(all).filter((i) => st.episodeOf(i) === ep.id[s]).sort((a, b) => st.stepOf(a) - st.stepOf(b));
      const dplus = members.map((i) => Math.abs(td[i]!) + 1e-6);
      const total = dplus.reduce((a, x) => a + x, 0);
      const d = ep.finished[s] ? total : Math.max(total, maxEnded);
      if (!ep.finished[s]) openSeen++;
      let suffix = total;
      members.forEach((i, k) => {
        suffix -= dplus[k]!;
        expect(buf.reliability(i)).toBeCloseTo(1 - suffix / d, 5);
      });
      if (ep.finished[s]) expect(buf.reliability(members[members.length - 1]!)).toBeCloseTo(1, 6);
    });
    expect(openSeen).toBeGreaterThan(0);
    // At the end of the horizon: P ∝ (|δ|+ε)^0.1 · R^0.5.
    const q = Array.from(all, (i) => Math.pow(Math.abs(td[i]!) + 1e-6, 0.1) * Math.pow(buf.reliability(i), 0.5));
    const sum = q.reduce((a, x) => a + Math.max(x, 1e-30), 0);
    for (const i of all) expect(buf.probability(i)).toBeCloseTo(Math.max(q[i]!, 1e-30) / sum, 7);
  });

  it("ensemble estimator needs tdStd and uses its EMA", () => {
    const { buf } = filled({ capacity: 40, sampler: "reaper", reliability: "ensemble", spreadRate: 0.5 }, 10);
    const idx = Int32Array.from([1, 2, 3]);
    expect(() => buf.updatePriorities(idx, { tdError: new Float32Array(3) })).toThrow(/tdStd/);
    buf.updatePriorities(idx, { tdError: new Float32Array(3), tdStd: new Float32Array([1, 2, 3]) });
    buf.updatePriorities(idx, { tdError: new Float32Array(3), tdStd: new Float32Array([3, 2, 1]) });
    expect(Array.from(buf.statistic("unreliability").subarray(1, 4))).toEqual([2, 2, 2]);
    buf.sample(2, new Rng(1));
    expect(buf.reliability(1)).toBeCloseTo(0.5);
    expect(buf.reliability(0)).toBe(0.5); // unknown counts as average
  });
});
