import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveTdmArch } from "../../src/agents/tdm/model.js";
import { loadConfig } from "../../src/config/load.js";
import { agentOf } from "../helpers/agents.js";
import { listEnvs } from "../../src/envs/index.js";
import { evaluateCheckpoint } from "../../src/train/evaluate.js";
import { train } from "../../src/train/trainer.js";

const quiet = { progress: false, print: () => {} };

/** Tiny sizes for every preset: the presets' own structure (modes, tokenisation) with small numbers. */
const TINY = [
  "experiment.backend=cpu",
  "experiment.totalSteps=160",
  "train.learningStarts=100",
  "train.batchSize=8",
  "train.trainFreq=20",
  "train.gradientSteps=1",
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
  "agent.planner.iterations=1",
  "agent.planner.horizon=2",
  "agent.exploration.fraction=0.5",
  "replay.capacity=1000",
  "eval.every=0",
  "eval.episodes=1",
  "checkpoint.every=0",
  "logging.every=50",
];

/**
 * `evaluate`: run the final greedy evaluation, then `qttdm eval`'s evaluation of the saved agent (only
 * where a poor policy ends episodes quickly); `actionDims` of the env's continuous actions.
 */
const PRESETS: { name: string; env: string; evaluate: boolean; actionDims?: number }[] = [
  { name: "lunarlander/qttdm", env: "LunarLander-v3", evaluate: false },
  { name: "lunarlander-continuous/qttdm", env: "LunarLanderContinuous-v3", evaluate: false },
  { name: "inverted-pendulum/qttdm", env: "InvertedPendulum-v5", evaluate: true, actionDims: 1 },
  { name: "hopper/qttdm", env: "Hopper-v5", evaluate: false },
  { name: "half-cheetah/qttdm", env: "HalfCheetah-v5", evaluate: false },
  { name: "humanoid/qttdm", env: "Humanoid-v5", evaluate: true, actionDims: 17 },
];

describe("qttdm presets train end to end (tiny sizes)", () => {
  const registered = new Set(listEnvs().map((e) => e.id));
  for (const p of PRESETS) {
    const run = registered.has(p.env) ? it : it.skip;
    run(`${p.name}${registered.has(p.env) ? "" : ` (skipped: ${p.env} is not registered)`}`, async () => {
      const runs = mkdtempSync(join(tmpdir(), "qttdm-preset-"));
      // The preset's TDM tokenisation, at a tiny size.
      const tokens = resolveTdmArch(agentOf(loadConfig({ config: p.name }), "qttdm").tdm).actionTokens;
      const tdm = `agent.tdm={layers: 1, width: 16, heads: 2, context: 4, headHidden: [16], actionTokens: ${tokens}}`;
      const config = loadConfig({ config: p.name, set: [`experiment.runsDir=${runs}`, ...TINY, tdm] });
      expect(config.agent.kind).toBe("qttdm");
      // Without evaluation the run stops (with a checkpoint) instead of evaluating greedily at the end.
      const s = await train({ config, ...quiet, stopAfter: p.evaluate ? undefined : 160 });
      expect(s.envSteps).toBe(160);
      expect(s.updates).toBe(4); // a round every 20 steps from step 100
      if (!p.evaluate) return;
      expect(Number.isFinite(s.finalEval!.mean)).toBe(true);
      // The saved agent, through the run's `latest` pointer, acts with whole action vectors.
      const saved = await evaluateCheckpoint({ checkpoint: join(s.runDir, "checkpoints", "latest"), episodes: 1, record: true });
      expect(Number.isFinite(saved.mean)).toBe(true);
      for (const a of saved.trajectories![0]!.actions) expect((a as number[]).length).toBe(p.actionDims);
    });
  }
});
