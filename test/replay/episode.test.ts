import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import { ReplayBuffer, type ReplayConfigInput } from "../../src/replay/buffer.js";
import { FakeVecEnv, SPEC } from "./helpers.js";

/**
 * The ReaPER rule computed from scratch: ρ_t = Σ_{i>t} δ⁺_i / D over each episode's stored
 * transitions (δ⁺ = |δ| + eps, the running max priority when unreported; D the episode total when
 * it has ended, else max(total, M) with the estimator's M).
 */
function bruteForceRho(buf: ReplayBuffer): Float64Array {
  const st = buf.store;
  const td = buf.statistic("tdError");
  const { maxPriority, maxEpisodeTotal } = buf.samplerState();
  const members = new Map<number, number[]>();
  for (let i = 0; i < buf.size; i++) members.set(st.episodeOf(i), [...(members.get(st.episodeOf(i)) ?? []), i]);
  const rho = new Float64Array(buf.size);
  for (const [id, list] of members) {
    list.sort((a, b) => st.stepOf(a) - st.stepOf(b));
    const dplus = list.map((i) => (Number.isNaN(td[i]!) ? maxPriority : Math.abs(td[i]!) + buf.config.eps));
    const total = dplus.reduce((a, x) => a + x, 0);
    const d = st.episodes.finished[st.episodes.slot(id)] ? total : Math.max(total, maxEpisodeTotal!);
    let suffix = total;
    list.forEach((i, k) => {
      suffix -= dplus[k]!;
      rho[i] = Math.min(1, Math.max(0, suffix / d));
    });
  }
  return rho;
}

/** Largest |ρ used by the sampler − brute-force ρ| over the buffer. */
function maxError(buf: ReplayBuffer): number {
  const exact = bruteForceRho(buf);
  let worst = 0;
  for (let i = 0; i < buf.size; i++) worst = Math.max(worst, Math.abs(1 - buf.reliability(i) - exact[i]!));
  return worst;
}

/**
 * Adds (with ring wrap-around and running episodes), draws and reports of random TD errors whose
 * scale grows now and then (so the running max priority grows), calling `check` after each draw
 * and after each report.
 */
function run(config: ReplayConfigInput, rounds: number, check: (buf: ReplayBuffer, when: "draw" | "report") => void): ReplayBuffer {
  const env = new FakeVecEnv(4, 13, 40);
  const buf = new ReplayBuffer(SPEC, { capacity: 600, sampler: "reaper", reliability: "episode", reaperHorizon: 0, ...config });
  const rng = new Rng(3);
  const tdr = new Rng(4);
  let scale = 0.5;
  for (let r = 0; r < rounds; r++) {
    buf.add(env.step());
    if (r < 3) continue;
    if (r % 50 === 0) scale *= 1.5;
    const b = buf.sample(24, rng, r);
    check(buf, "draw");
    // Repeats and a share of biased reports (TD errors shrinking), as in training.
    const td = Float32Array.from(b.indices, () => (tdr.random() < 0.3 ? 0.1 : scale) * tdr.normal());
    buf.updatePriorities(b.indices, { tdError: td }, b.sampledAt);
    check(buf, "report");
  }
  return buf;
}

describe("episode estimator (incremental ReaPER)", () => {
  it("with tolerance 0, every ρ equals the brute-force rule at every draw", () => {
    let checks = 0;
    run({ episodeTolerance: 0 }, 400, (buf, when) => {
      if (when !== "draw") return;
      expect(maxError(buf)).toBeLessThan(1e-6);
      checks++;
    });
    expect(checks).toBe(397);
  });

  for (const tol of [0.02, 0.1, 0.3]) {
    it(`with tolerance ${tol}, every ρ is within it after every draw and every report`, () => {
      let worst = 0;
      const buf = run({ episodeTolerance: tol }, 600, (b) => {
        worst = Math.max(worst, maxError(b));
      });
      expect(worst).toBeLessThanOrEqual(tol + 1e-6);
      expect(worst).toBeGreaterThan(tol / 10); // lazy: it does not recompute what it need not
      expect(buf.size).toBe(600);
    });
  }

  it("keeps the bound under PER too, where only the logged reliabilities use ρ", () => {
    let worst = 0;
    run({ sampler: "per", episodeTolerance: 0.1 }, 400, (b) => {
      worst = Math.max(worst, maxError(b));
    });
    expect(worst).toBeLessThanOrEqual(0.1 + 1e-6);
  });

  it("loads a snapshot of the recomputing estimator and has every ρ within the tolerance at its first draw", async () => {
    const buf = await ReplayBuffer.load(new URL("./fixtures/v1-reaper-episode.qrb", import.meta.url).pathname);
    buf.sample(8, new Rng(1), 100);
    expect(maxError(buf)).toBeLessThanOrEqual(buf.config.episodeTolerance + 1e-6);
  });

  it("samples by (|δ|+ε)^α · (1 − ρ̃)^β with the ρ̃ it reports", () => {
    const buf = run({ episodeTolerance: 0.1, reaperAlphaEnd: 0.4, reaperBetaEnd: 0.8 }, 200, () => undefined);
    buf.sample(4, new Rng(1), 1000);
    const td = buf.statistic("tdError");
    const maxP = buf.samplerState().maxPriority;
    const q = Array.from(td, (d, i) => Math.pow(Number.isNaN(d) ? maxP : Math.abs(d) + 1e-6, 0.4) * Math.pow(buf.reliability(i), 0.8));
    const sum = q.reduce((a, x) => a + Math.max(x, 1e-30), 0);
    for (let i = 0; i < buf.size; i++) expect(buf.probability(i)).toBeCloseTo(Math.max(q[i]!, 1e-30) / sum, 6);
  });

  it("a full refresh makes every ρ exact", () => {
    const buf = run({ episodeTolerance: 0.3 }, 300, () => undefined);
    buf.refresh();
    expect(maxError(buf)).toBeLessThan(1e-6);
  });
});
