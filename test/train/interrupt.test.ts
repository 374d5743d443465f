import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { DivergenceError } from "../../src/core/errors.js";
import { train } from "../../src/train/trainer.js";
import { CLI } from "../helpers/cli.js";

const tiny = ["experiment.backend=cpu", "agent.network.hidden=[16, 16]", "train.learningStarts=100", "train.batchSize=16", "eval.episodes=1"];

describe("stopping a run", () => {
  it("SIGINT saves a checkpoint and exits cleanly with a resume hint", async () => {
    const runs = mkdtempSync(join(tmpdir(), "qttdm-sigint-"));
    const args = [CLI, "train", "--set", `experiment.runsDir=${runs}`, "--set", "experiment.totalSteps=1000000", "--set", "eval.every=0", ...tiny.flatMap((s) => ["--set", s])];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    // Interrupt once training is under way (a second after the run directory was announced).
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (out.includes("run directory:")) {
          clearInterval(timer);
          setTimeout(() => {
            child.kill("SIGINT");
            resolve();
          }, 1500);
        }
      }, 100);
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(out).toContain("resume with: npx qttdm train --resume");
    expect(code).toBe(130);
    const [run] = readdirSync(runs);
    expect(existsSync(join(runs, run!, "checkpoints", "latest"))).toBe(true);
  });

  it("divergence stops the run with a clear message and keeps the last good checkpoint", async () => {
    const runs = mkdtempSync(join(tmpdir(), "qttdm-diverge-"));
    const config = loadConfig({
      set: [`experiment.runsDir=${runs}`, "experiment.totalSteps=3000", "eval.every=0", "checkpoint.every=200", "agent.lr=1e30", "agent.clipNorm=null", ...tiny, "train.learningStarts=300"],
    });
    const err = await train({ config, progress: false, print: () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DivergenceError);
    expect((err as Error).message).toMatch(/diverged at update \d+/);
    expect((err as Error).message).toContain("the last good checkpoint is");
    const [run] = readdirSync(runs);
    expect(readdirSync(join(runs, run!, "checkpoints")).filter((f) => f.startsWith("step-")).length).toBeGreaterThan(0);
  });

  it("agent.maxAbsQ stops a run whose Q leaves the bound while still finite", async () => {
    const runs = mkdtempSync(join(tmpdir(), "qttdm-maxq-"));
    // LunarLander's rewards reach ±100 and Q starts near 0, so a bound of 0.5 is crossed within a few hundred updates.
    const config = loadConfig({ set: [`experiment.runsDir=${runs}`, "experiment.totalSteps=3000", "eval.every=0", "checkpoint.every=0", "agent.maxAbsQ=0.5", ...tiny] });
    const err = await train({ config, progress: false, print: () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DivergenceError);
    expect((err as Error).message).toMatch(/diverged at update \d+: mean Q -?[\d.e+-]+ of the sampled batch is outside ±agent.maxAbsQ = 0.5/);
  });
});
