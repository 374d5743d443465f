/**
 * Pinned draws: for every sampler × reliability estimator, a fixed scenario (adds with ring
 * wrap-around, draws, priority reports, sequence draws, a moving ReaPER+ schedule) must give
 * exactly the indices, weights and reliabilities recorded here. The digests were computed on the
 * buffer before it was split into samplers and estimators, so they prove that split
 * behaviour-preserving, bit for bit (except where noted below); a change to them must be a
 * deliberate change of behaviour.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import { ReplayBuffer, type ReplayConfigInput } from "../../src/replay/buffer.js";
import { FakeVecEnv, SPEC } from "./helpers.js";

type Sampler = NonNullable<ReplayConfigInput["sampler"]>;
type Reliability = NonNullable<ReplayConfigInput["reliability"]>;

/** The scenario's draws: the first batch's indices, and a digest of every number drawn. */
export function scenario(sampler: Sampler, reliability: Reliability): { first: number[]; digest: string } {
  const env = new FakeVecEnv(3, 31, 12);
  const buf = new ReplayBuffer(SPEC, {
    capacity: 120,
    sampler,
    reliability,
    reaperHorizon: 60,
    refreshTolerance: 0.05,
    isBetaSteps: 50,
    nStep: 2,
    spreadRate: 0.5,
  });
  const rng = new Rng(7);
  const tdr = new Rng(8);
  const values: number[] = [];
  let first: number[] = [];
  for (let step = 0; step < 80; step++) {
    buf.add(env.step());
    if (step < 4) continue;
    const b = buf.sample(16, rng, step);
    if (first.length === 0) first = Array.from(b.indices);
    const i = b.info;
    values.push(...b.indices, ...b.weights, ...i.reliability, ...i.tdAbs, i.alpha, i.beta, i.isBeta, Number(i.refreshed), ...b.returns, ...b.discount);
    const td = Float32Array.from(b.indices, () => tdr.normal() * 2);
    const tdStd = Float32Array.from(b.indices, () => Math.abs(tdr.normal()));
    const res = buf.updatePriorities(b.indices, { tdError: td, tdStd }, b.sampledAt);
    values.push(res.updated, res.stale);
    if (step % 10 === 0) {
      const s = buf.sampleSequences(4, 5, rng, step);
      values.push(...s.starts, ...s.weights, ...s.indices, ...s.info.reliability);
    }
  }
  for (let i = 0; i < buf.size; i++) values.push(buf.probability(i), buf.reliability(i));
  const digest = createHash("sha256").update(new Uint8Array(Float64Array.from(values).buffer)).digest("hex").slice(0, 16);
  return { first, digest };
}

const PINNED: Record<string, { first: number[]; digest: string }> = {
  "uniform/td-spread": { first: [0, 2, 14, 8, 7, 9, 2, 14, 8, 5, 10, 9, 3, 6, 7, 14], digest: "924f3d17c7ec3f99" },
  // The episode rows: the incremental estimator with its default tolerance (its reliabilities are
  // within replay.episodeTolerance of the recomputing one's, so these differ from the split's pins).
  "uniform/episode": { first: [0, 2, 14, 8, 7, 9, 2, 14, 8, 5, 10, 9, 3, 6, 7, 14], digest: "41901bbeed5fc9f0" },
  "uniform/ensemble": { first: [0, 2, 14, 8, 7, 9, 2, 14, 8, 5, 10, 9, 3, 6, 7, 14], digest: "556ab79bf83a1ab9" },
  "per/td-spread": { first: [0, 1, 2, 3, 4, 5, 5, 6, 8, 8, 9, 11, 11, 12, 13, 14], digest: "e867e9a30708c978" },
  // Before the split, PER with the episode estimator never rewrote a leaf after a report (4cc9d643b27fe9bb
  // with that bug reproduced, bae31fe206e8b6d8 fixed); now its reports set its leaves as with the
  // other estimators.
  "per/episode": { first: [0, 1, 2, 3, 4, 5, 5, 6, 8, 8, 9, 11, 11, 12, 13, 14], digest: "44470ac46b4f6721" },
  "per/ensemble": { first: [0, 1, 2, 3, 4, 5, 5, 6, 8, 8, 9, 11, 11, 12, 13, 14], digest: "4cc0ca9bd3f6aaf3" },
  "reaper/td-spread": { first: [0, 1, 2, 3, 4, 5, 5, 6, 8, 8, 9, 11, 11, 12, 13, 14], digest: "fbbbcb10a03e481d" },
  "reaper/episode": { first: [0, 1, 2, 3, 4, 5, 5, 6, 8, 8, 9, 11, 11, 12, 13, 14], digest: "71b79066d605aa45" },
  "reaper/ensemble": { first: [0, 1, 2, 3, 4, 5, 5, 6, 8, 8, 9, 11, 11, 12, 13, 14], digest: "515cf2dadc0bf244" },
};

describe("pinned draws", () => {
  for (const sampler of ["uniform", "per", "reaper"] as const) {
    for (const reliability of ["td-spread", "episode", "ensemble"] as const) {
      it(`${sampler} × ${reliability}`, () => {
        expect(scenario(sampler, reliability)).toEqual(PINNED[`${sampler}/${reliability}`]);
      });
    }
  }
});
