import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { evaluateCheckpoint } from "../../src/train/evaluate.js";
import { train } from "../../src/train/trainer.js";

const quiet = { progress: false, print: () => {} };

function tinyConfig(runsDir: string, extra: string[] = []) {
  return loadConfig({
    set: [
      `experiment.runsDir=${runsDir}`,
      "experiment.backend=cpu",
      "experiment.totalSteps=1200",
      "agent.network.hidden=[32, 32]",
      "agent.target.every=50",
      "train.learningStarts=200",
      "train.batchSize=32",
      "train.trainFreq=2",
      "replay.capacity=5000",
      "replay.sampler=reaper",
      "replay.reaperHorizon=400",
      "eval.every=600",
      "eval.episodes=1",
      "checkpoint.every=600",
      "logging.every=100",
      ...extra,
    ],
  });
}

interface Record_ {
  step: number;
  tag: string;
  value?: number | null;
  text?: string;
  histogram?: unknown;
}

function records(runDir: string): Record_[] {
  return readFileSync(join(runDir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record_)
    // Wall-clock dependent.
    .filter((r) => r.tag !== "charts/SPS" && r.tag !== "charts/train_seconds" && !r.tag.startsWith("run/"))
    .map(({ step, tag, value, histogram }) => ({ step, tag, value, histogram }));
}

describe("trainer", () => {
  it("trains end to end and writes config, metrics, TensorBoard events, evals and checkpoints", async () => {
    const runs = mkdtempSync(join(tmpdir(), "qttdm-train-"));
    const s = await train({ config: tinyConfig(runs, ["disrc.enabled=true", "disrc.hidden=[16]", "disrc.latentDim=8"]), ...quiet });
    expect(s.envSteps).toBe(1200);
    expect(s.updates).toBe(501); // a round every 2 steps from step 200 to 1200
    const files = readdirSync(s.runDir);
    expect(files).toEqual(expect.arrayContaining(["config.yaml", "metrics.jsonl", "checkpoints", "eval"]));
    expect(files.some((f) => f.startsWith("events.out.tfevents."))).toBe(true);
    expect(readdirSync(join(s.runDir, "eval")).length).toBe(2);
    expect(existsSync(join(s.runDir, "checkpoints", "latest"))).toBe(true);
    const tags = new Set(records(s.runDir).map((r) => r.tag));
    for (const t of [
      "charts/episodic_return",
      "charts/episodic_length",
      "charts/epsilon",
      "losses/td_loss",
      "losses/q_values",
      "replay/td_error_mean",
      "replay/reliability_mean",
      "replay/alpha",
      "replay/beta",
      "replay/sampled_reliability",
      "disrc/surprise_mean",
      "disrc/weight_mean",
      "eval/episodic_return",
    ]) {
      expect(tags, t).toContain(t);
    }
    // The surprise model is supervised on the same batches: its prediction error must fall.
    const errors = records(s.runDir).filter((r) => r.tag === "disrc/prediction_error").map((r) => r.value as number);
    expect(errors.length).toBeGreaterThan(3);
    expect(errors[errors.length - 1]!).toBeLessThan(0.5 * errors[0]!);
  });

  // Churn reduction keeps a second copy of the critic and running loss means, the weight average a
  // third copy: all must be restored.
  it.each([
    [[], null],
    [["agent.churn.mode=auto"], "losses/churn_coef"],
    [["agent.average.horizon=100"], "eval/online_episodic_return"],
  ])("a resumed run produces exactly the metrics of an uninterrupted one (%j)", async (extra: string[], optionTag: string | null) => {
    const runs = mkdtempSync(join(tmpdir(), "qttdm-resume-"));
    const full = await train({ config: tinyConfig(join(runs, "a"), extra), ...quiet });
    const part = await train({ config: tinyConfig(join(runs, "b"), extra), stopAfter: 500, ...quiet });
    expect(part.interrupted).toBe(true);
    expect(part.envSteps).toBe(500);
    if (optionTag) expect(records(full.runDir).some((r) => r.tag === optionTag)).toBe(true);
    const resumed = await train({ config: tinyConfig(join(runs, "unused"), extra), resume: part.runDir, ...quiet });
    expect(resumed.runDir).toBe(part.runDir);
    expect(resumed.envSteps).toBe(1200);
    expect(records(part.runDir)).toEqual(records(full.runDir));
    expect(resumed.finalEval?.returns).toEqual(full.finalEval?.returns);
  });

  it("evaluates the weight average beside the online critic, whose evaluations and training it leaves as they were", async () => {
    const runs = mkdtempSync(join(tmpdir(), "qttdm-average-"));
    const plain = await train({ config: tinyConfig(join(runs, "plain")), ...quiet });
    const averaged = await train({ config: tinyConfig(join(runs, "averaged"), ["agent.average.horizon=100"]), ...quiet });
    const [p, a] = [records(plain.runDir), records(averaged.runDir)];
    const isEval = (r: Record_) => r.tag.startsWith("eval/");
    expect(a.filter((r) => !isEval(r))).toEqual(p.filter((r) => !isEval(r)));
    const evals = (rs: Record_[], tag: string) => rs.filter((r) => r.tag === tag).map((r) => [r.step, r.value]);
    expect(evals(a, "eval/online_episodic_return")).toEqual(evals(p, "eval/episodic_return"));
    expect(evals(a, "eval/episodic_return")).toHaveLength(2);
    const saved = JSON.parse(readFileSync(join(averaged.runDir, "eval", readdirSync(join(averaged.runDir, "eval"))[1]!), "utf8"));
    expect(saved.mean).toBe(averaged.finalEval!.mean);
    expect(saved.online.returns).toEqual(plain.finalEval!.returns);
    const ckpt = join(averaged.runDir, "checkpoints", "latest");
    const [byAverage, byOnline] = await Promise.all([
      evaluateCheckpoint({ checkpoint: ckpt, episodes: 1 }),
      evaluateCheckpoint({ checkpoint: ckpt, episodes: 1, mode: "greedy-online" }),
    ]);
    expect(byAverage.returns).toEqual(averaged.finalEval!.returns);
    expect(byOnline.returns).toEqual(plain.finalEval!.returns);
  });

  it("is deterministic for a seed", async () => {
    const runs = mkdtempSync(join(tmpdir(), "qttdm-det-"));
    const cfg = (d: string) => tinyConfig(join(runs, d), ["experiment.totalSteps=500", "eval.every=0"]);
    const a = await train({ config: cfg("a"), ...quiet });
    const b = await train({ config: cfg("b"), ...quiet });
    expect(records(a.runDir)).toEqual(records(b.runDir));
  });
});
