import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { listEnvs } from "../../src/envs/index.js";
import { train } from "../../src/train/trainer.js";

const quiet = { progress: false, print: () => {} };

/** Tiny sizes for every preset: the presets' own structure (modes, tokenisation) with small numbers. */
const TINY = [
  "experiment.backend=cpu",
  "experiment.totalSteps=160",
  "train.learningStarts=100",
  "train.batchSize=8",
  "train.trainFreq=10",
  "agent.tdmTrain.batchSize=4",
  "agent.tdmTrain.updateEvery=1",
  "agent.qt.updateEvery=1",
  "agent.qt.width=16",
  "agent.qt.heads=2",
  "agent.qt.headHidden=16",
  "agent.network.hidden=[16]",
  "agent.planner.samples=8",
  "agent.planner.proposals=2",
  "agent.planner.elites=4",
  "agent.planner.iterations=2",
  "agent.exploration.fraction=0.5",
  "replay.capacity=1000",
  "eval.every=0",
  "eval.episodes=1",
  "checkpoint.every=0",
  "logging.every=50",
];

const PRESETS: { name: string; env: string }[] = [
  { name: "lunarlander/qttdm", env: "LunarLander-v3" },
  { name: "lunarlander-continuous/qttdm", env: "LunarLanderContinuous-v3" },
  { name: "inverted-pendulum/qttdm", env: "InvertedPendulum-v5" },
  { name: "hopper/qttdm", env: "Hopper-v5" },
  { name: "humanoid/qttdm", env: "Humanoid-v5" },
];

describe("qttdm presets train end to end (tiny sizes)", () => {
  const registered = new Set(listEnvs().map((e) => e.id));
  for (const p of PRESETS) {
    const run = registered.has(p.env) ? it : it.skip;
    run(`${p.name}${registered.has(p.env) ? "" : ` (skipped: ${p.env} is not registered)`}`, async () => {
      const runs = mkdtempSync(join(tmpdir(), "qttdm-preset-"));
      const config = loadConfig({ config: p.name, set: [`experiment.runsDir=${runs}`, ...TINY] });
      expect(config.agent.kind).toBe("qttdm");
      const s = await train({ config, ...quiet });
      expect(s.envSteps).toBe(160);
      expect(s.updates).toBeGreaterThan(0);
      expect(Number.isFinite(s.finalEval!.mean)).toBe(true);
    });
  }
});
