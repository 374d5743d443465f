import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PRESETS_DIR, loadConfig } from "../../src/config/load.js";
import { train } from "../../src/train/trainer.js";

// Every DQN preset trains for real on tiny sizes (the QT-TDM presets have their own tests).
const presets = readdirSync(join(PRESETS_DIR, "lunarlander")).filter((f) => f.startsWith("dqn"));

describe("DQN presets", () => {
  it("are all present", () => {
    expect(presets.sort()).toEqual(["dqn-per.yaml", "dqn-reaper-disrc.yaml", "dqn-reaper-ensemble.yaml", "dqn-reaper.yaml", "dqn-uniform.yaml"]);
  });

  for (const preset of presets) {
    it(`${preset} trains a tiny run`, async () => {
      const config = loadConfig({
        config: join(PRESETS_DIR, "lunarlander", preset),
        set: [
          `experiment.runsDir=${mkdtempSync(join(tmpdir(), "qttdm-preset-"))}`,
          "experiment.backend=cpu",
          "experiment.totalSteps=400",
          "agent.network.hidden=[16, 16]",
          "train.learningStarts=100",
          "train.batchSize=16",
          "eval.every=0",
          "eval.episodes=1",
        ],
      });
      const s = await train({ config, progress: false, print: () => {} });
      expect(s.envSteps).toBe(400);
      expect(s.updates).toBeGreaterThan(0);
      expect(Number.isFinite(s.finalEval!.mean)).toBe(true);
    });
  }
});

// Every SAC preset trains a tiny run on its env (the hyperparameters stay the preset's except sizes).
const sacPresets = readdirSync(PRESETS_DIR, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith("/sac.yaml"));

describe("SAC presets", () => {
  it("exist for the continuous-control envs", () => {
    expect(sacPresets.sort()).toEqual(["half-cheetah/sac.yaml", "hopper/sac.yaml", "humanoid/sac.yaml", "inverted-pendulum/sac.yaml", "lunarlander-continuous/sac.yaml"]);
  });

  for (const preset of sacPresets) {
    it(`${preset} trains a tiny run`, async () => {
      const config = loadConfig({
        config: join(PRESETS_DIR, preset),
        set: [
          `experiment.runsDir=${mkdtempSync(join(tmpdir(), "qttdm-preset-"))}`,
          "experiment.backend=cpu",
          "experiment.totalSteps=300",
          "agent.actor.hidden=[16]",
          "agent.critic.hidden=[16]",
          "train.learningStarts=100",
          "train.batchSize=16",
          "replay.capacity=1000",
          "eval.every=0",
          "eval.episodes=1",
        ],
      });
      expect(config.agent.kind).toBe("sac");
      const s = await train({ config, progress: false, print: () => {} });
      expect(s.updates).toBe(201);
      expect(Number.isFinite(s.finalEval!.mean)).toBe(true);
    });
  }
});
