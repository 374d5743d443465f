import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import { policyQValues } from "../../src/export/forward.js";
import { greedyPolicy } from "../../src/export/policy.js";
import { agentQValues, tinyRun, VARIANTS } from "./helpers.js";

describe("greedy policy of a checkpoint", () => {
  it.each(VARIANTS)("%s: its arrays compute the agent's greedy Q-values", async (_, extra) => {
    const dir = await tinyRun(extra);
    const p = await greedyPolicy(dir);
    const obs = new Rng(3).fillNormal(new Float32Array(7 * p.obsDim), 0, 1);
    const want = Array.from(await agentQValues(dir, p, obs, 7));
    const got = Array.from(policyQValues(p, obs, 7));
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
    expect(p.source).toContain(extra.some((e) => e.startsWith("agent.average")) ? "weight average" : "online");
  });

  it("refuses a planning agent with a clear reason", async () => {
    const dir = await tinyRun(["agent.planner.mode=qt", "agent.tdm={size: small, layers: 1, width: 16, heads: 2}", "agent.qt.layers=1", "agent.qt.width=16", "agent.qt.heads=2"], "lunarlander/qttdm");
    await expect(greedyPolicy(dir)).rejects.toThrow(/acts by the Q-Transformer's autoregressive decoding; only a greedy Q-network can be exported/);
  });
});
