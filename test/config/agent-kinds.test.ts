import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { agentOf } from "../helpers/agents.js";
import { errorOf } from "../helpers/config.js";

describe("the agent section, one schema per kind", () => {
  it("defaults to the dqn kind and fills that kind's defaults only", () => {
    const c = loadConfig({});
    expect(c.agent.kind).toBe("dqn");
    expect(Object.keys(c.agent)).toContain("average");
    expect(Object.keys(c.agent)).not.toContain("tdm");
    expect(Object.keys(agentOf(loadConfig({ set: ["agent.kind=sac"] }), "sac")).sort()).toEqual(["actor", "adamEps", "clipNorm", "critic", "entropy", "gamma", "kind"]);
  });

  it("names the kind that accepts a key the chosen kind rejects, and lists the kinds for an unknown kind", () => {
    expect(errorOf(() => loadConfig({ set: ["agent.tdm=large"] }))).toContain('config key "agent.tdm" is not a key of agent.kind "dqn"; agent.kind "qttdm" accepts it');
    expect(errorOf(() => loadConfig({ set: ["agent.kind=sac", "agent.network.hidden=[8]"] }))).toContain('agent.kind "dqn" or "qttdm" accepts it');
    expect(errorOf(() => loadConfig({ set: ["agent.kind=sac", "agent.actor.lrr=1"] }))).toContain('did you mean "agent.actor.lr"');
    expect(errorOf(() => loadConfig({ set: ["agent.kind=ppo"] }))).toContain('config key "agent.kind": got "ppo"; expected one of "dqn", "qttdm", "sac"');
  });

  it("keeps the keys the new kind accepts when a --set or a file changes the kind of the config it builds on", () => {
    const switched = agentOf(loadConfig({ config: "lunarlander/dqn-reaper", set: ["agent.kind=qttdm"] }), "qttdm");
    expect(switched.lr).toBe(2.5e-4);
    expect(switched.network.layerNorm).toBe(true);
    const sac = agentOf(loadConfig({ config: "lunarlander/dqn-reaper", set: ["agent.kind=sac", "env.id=LunarLanderContinuous-v3"] }), "sac");
    expect(sac.gamma).toBe(0.999);
    const dir = mkdtempSync(join(tmpdir(), "qttdm-kinds-"));
    writeFileSync(join(dir, "child.yaml"), "extends: lunarlander/dqn-reaper\nagent: {kind: qttdm, qt: {bins: 5}}\n");
    const child = agentOf(loadConfig({ config: join(dir, "child.yaml") }), "qttdm");
    expect([child.lr, child.qt.bins]).toEqual([2.5e-4, 5]);
    // Keys set after the switch are the new kind's to accept or refuse.
    expect(errorOf(() => loadConfig({ config: "lunarlander/dqn-reaper", set: ["agent.kind=qttdm", "agent.average.horizon=5"] }))).toContain('"agent.average" is not a key of agent.kind "qttdm"');
  });
});
