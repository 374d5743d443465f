// Every registered agent, the way Gymnasium's check_env loops over registered envs: a tiny run on a
// compatible env trains, checkpoints and resumes to exactly the uninterrupted run's metrics, and an
// env whose action space the agent cannot act in is refused by name.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listAgents } from "../../src/agents/index.js";
import { loadConfig } from "../../src/config/load.js";
import { train } from "../../src/train/trainer.js";
import { metricsOf } from "../helpers/runs.js";

/** Per kind: an env it acts in and tiny network sizes. A new agent kind adds its entry here. */
const TINY: Record<string, { env: string; set: string[] }> = {
  dqn: { env: "LunarLander-v3", set: ["agent.network.hidden=[16, 16]", "agent.target.every=50"] },
  qttdm: {
    env: "LunarLander-v3",
    set: [
      "agent.network.hidden=[16]",
      "agent.tdm={layers: 1, width: 16, heads: 2, context: 4, headHidden: [16]}",
      "agent.tdmTrain.batchSize=4",
      "agent.qt={width: 16, heads: 2, headHidden: 16}",
      "agent.planner.mode=qt",
    ],
  },
  sac: { env: "InvertedPendulum-v5", set: ["agent.actor.hidden=[16]", "agent.critic.hidden=[16]"] },
};

/** An env of the other action-space kind, for the refusals. */
const OTHER_ENV = { discrete: "LunarLander-v3", box: "InvertedPendulum-v5" } as const;

const quiet = { progress: false, print: () => {} };

function tinyConfig(kind: string, runsDir: string, env = TINY[kind]!.env) {
  return loadConfig({
    set: [
      `experiment.runsDir=${runsDir}`,
      "experiment.backend=cpu",
      "experiment.totalSteps=400",
      `env.id=${env}`,
      `agent.kind=${kind}`,
      ...TINY[kind]!.set,
      "train.learningStarts=100",
      "train.batchSize=16",
      "train.trainFreq=4",
      "replay.capacity=2000",
      "eval.every=200",
      "eval.episodes=1",
      "checkpoint.every=200",
      "logging.every=100",
    ],
  });
}

describe("every registered agent", () => {
  const kinds = listAgents().map((d) => d.kind);

  it("has tiny settings in this test", () => {
    expect(kinds.filter((k) => !TINY[k]), "add an entry to TINY for each new agent kind").toEqual([]);
  });

  for (const def of listAgents()) {
    it(`${def.kind}: trains a tiny run whose checkpoint resumes to exactly the uninterrupted run`, async () => {
      const runs = mkdtempSync(join(tmpdir(), `qttdm-agent-${def.kind}-`));
      const full = await train({ config: tinyConfig(def.kind, join(runs, "a")), ...quiet });
      expect(full.updates).toBeGreaterThan(0);
      expect(Number.isFinite(full.finalEval!.mean)).toBe(true);
      const part = await train({ config: tinyConfig(def.kind, join(runs, "b")), stopAfter: 200, ...quiet });
      expect(part.interrupted).toBe(true);
      const resumed = await train({ config: tinyConfig(def.kind, join(runs, "unused")), resume: part.runDir, ...quiet });
      expect(resumed.envSteps).toBe(400);
      expect(metricsOf(part.runDir)).toEqual(metricsOf(full.runDir));
      expect(resumed.finalEval?.returns).toEqual(full.finalEval?.returns);
    });

    const unsupported = (["discrete", "box"] as const).filter((k) => !def.actionSpaces.includes(k));
    for (const space of unsupported) {
      it(`${def.kind}: refuses a ${space} action space by name`, async () => {
        const runs = mkdtempSync(join(tmpdir(), `qttdm-agent-${def.kind}-`));
        await expect(train({ config: tinyConfig(def.kind, runs, OTHER_ENV[space]), ...quiet })).rejects.toThrow(
          new RegExp(`"agent.kind": got "${def.kind}".*${space} one; expected one of`),
        );
      });
    }
  }
});
