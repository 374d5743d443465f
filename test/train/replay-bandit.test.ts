import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { Rng } from "../../src/core/rng.js";
import { ReplayBuffer } from "../../src/replay/buffer.js";
import { train } from "../../src/train/trainer.js";
import { metricsOf } from "../helpers/runs.js";

const quiet = { progress: false, print: () => {} };
const ARMS = "replay.bandit.arms=[[0.7, 0], [0.4, 0.5], [0.1, 1]]";

function tinyConfig(runsDir: string, extra: string[] = []) {
  return loadConfig({
    set: [
      `experiment.runsDir=${runsDir}`,
      "experiment.backend=cpu",
      "experiment.totalSteps=1000",
      "agent.network.hidden=[16, 16]",
      "train.learningStarts=200",
      "train.batchSize=16",
      "train.trainFreq=2",
      "replay.capacity=600",
      "replay.sampler=reaper",
      "replay.schedule=bandit",
      ARMS,
      "replay.bandit.every=40",
      "replay.bandit.probeSize=32",
      "eval.every=250",
      "eval.episodes=1",
      "checkpoint.every=500",
      "logging.every=50",
      ...extra,
    ],
  });
}

const series = (run: string, tag: string) =>
  readFileSync(join(run, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { tag: string; value: number })
    .filter((r) => r.tag === tag)
    .map((r) => r.value);

describe("replay.schedule: bandit", () => {
  it("chooses ReaPER+'s exponents among its arms by the TD-loss drop on a probe, and resumes to exactly the uninterrupted run", async () => {
    const runs = mkdtempSync(join(tmpdir(), "qttdm-bandit-"));
    const full = await train({ config: tinyConfig(join(runs, "a")), ...quiet });
    const arms = series(full.runDir, "replay/bandit_arm");
    // 401 updates, a choice before the updates after 40, 80, …, 400: each arm tried once first, in order.
    expect(arms).toHaveLength(10);
    expect(arms.slice(0, 2)).toEqual([1, 2]);
    expect(series(full.runDir, "replay/bandit_reward").every(Number.isFinite)).toBe(true);
    // The sampler draws with the chosen arms' α (replay/alpha, a mean over each logging window), not the annealed 0.7 → 0.1.
    const alphas = series(full.runDir, "replay/alpha");
    expect(alphas[0]).toBeCloseTo(0.7, 6);
    expect(alphas.some((a) => Math.abs(a - 0.1) < 1e-6)).toBe(true);
    for (const a of alphas) expect(a).toBeGreaterThanOrEqual(0.1 - 1e-6);
    // A probe drawn across the ring's wrap (capacity 600 < 1000 steps) still gives a reward.
    const part = await train({ config: tinyConfig(join(runs, "b")), stopAfter: 500, ...quiet });
    await train({ config: tinyConfig(join(runs, "unused")), resume: part.runDir, ...quiet });
    expect(metricsOf(part.runDir)).toEqual(metricsOf(full.runDir));
  });

  it("with progress eval, switches at each evaluation by the change of the eval return", async () => {
    const runs = mkdtempSync(join(tmpdir(), "qttdm-bandit-"));
    const s = await train({ config: tinyConfig(runs, ["replay.bandit.progress=eval"]), ...quiet });
    // Evaluations at 250, 500, 750, 1000: a reward from the second on.
    expect(series(s.runDir, "replay/bandit_played")).toEqual([0, 1, 2]);
  });

  it("refuses a sampler without α and β, and td-loss progress for an agent without a critic", async () => {
    const runs = mkdtempSync(join(tmpdir(), "qttdm-bandit-"));
    await expect(train({ config: tinyConfig(runs, ["replay.sampler=per"]), ...quiet })).rejects.toThrow(/"replay.schedule": got "bandit" with replay.sampler "per"; expected replay.sampler "reaper"/);
    const sac = tinyConfig(runs, ["agent.kind=sac", "env.id=InvertedPendulum-v5", "agent.actor.hidden=[8]", "agent.critic.hidden=[8]"]);
    await expect(train({ config: sac, ...quiet })).rejects.toThrow(/"replay.bandit.progress": got "td-loss", but agent.kind "sac" has no critic/);
  });
});

describe("ReplayBuffer.gather", () => {
  it("returns the transitions a draw returns for the same indices, with n-step pieces and unit weights", () => {
    const buffer = new ReplayBuffer({ obsDim: 2, action: { kind: "discrete", n: 3 }, gamma: 0.9 }, { capacity: 64, nStep: 3, sampler: "uniform" });
    const rng = new Rng(1);
    for (let t = 0; t < 80; t++) {
      const done = t % 9 === 8;
      buffer.add({
        obs: Float32Array.of(t, -t), action: [t % 3], reward: [t / 10], nextObs: Float32Array.of(t + 1, -t - 1),
        terminated: [done ? 1 : 0], truncated: [0], episodeId: [Math.floor(t / 9)], stepInEpisode: [t % 9],
      });
    }
    const drawn = buffer.sample(8, rng);
    const again = buffer.gather(drawn.indices.slice());
    for (const k of ["obs", "action", "reward", "nextObs", "returns", "bootstrapObs", "discount", "done", "episodeId", "stepInEpisode"] as const) {
      expect(Array.from(again[k]), k).toEqual(Array.from(drawn[k]));
    }
    expect(Array.from(again.weights)).toEqual(new Array(8).fill(1));
    expect(() => buffer.gather(Int32Array.of(64))).toThrow(/index 64 is not a stored transition/);
  });
});
