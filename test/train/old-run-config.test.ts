// Runs made before the agent section was per kind stored every kind's keys in config.yaml; they still
// read (evaluate, report, resume), while a key that no kind declares is still reported as damage.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import YAML from "yaml";
import { describe, expect, it } from "vitest";
import { configToYaml, loadConfig } from "../../src/config/load.js";
import { readRunConfig } from "../../src/train/run-dir.js";

/** A run directory whose config.yaml is `agent` merged into the resolved preset, as an earlier version wrote it. */
function runWith(preset: string, extraAgentKeys: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), "qttdm-old-run-"));
  mkdirSync(dir, { recursive: true });
  const raw = YAML.parse(configToYaml(loadConfig({ config: preset }))) as { agent: Record<string, unknown> };
  Object.assign(raw.agent, extraAgentKeys);
  writeFileSync(join(dir, "config.yaml"), YAML.stringify(raw));
  return dir;
}

describe("a run config written before per-kind agent sections", () => {
  it("reads with the other kinds' keys dropped", () => {
    const qttdm = readRunConfig(runWith("humanoid/qttdm", { average: { horizon: null }, encoderInit: null }));
    expect(qttdm.agent.kind).toBe("qttdm");
    expect(Object.keys(qttdm.agent)).not.toContain("average");
    const dqn = readRunConfig(runWith("lunarlander/dqn-reaper", { tdm: "small", qt: { layers: 1 }, planner: {}, joint: {}, tdmTrain: {} }));
    expect(Object.keys(dqn.agent)).not.toContain("tdm");
  });

  it("still reports a key no kind declares as damage", () => {
    expect(() => readRunConfig(runWith("lunarlander/dqn-reaper", { lrr: 1 }))).toThrow(/config.yaml is damaged: .*unknown config key "agent.lrr"/);
  });
});
