import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { QttdmAgent, symlog } from "../../src/agents/qttdm/agent.js";
import type { AgentEnvSpec, ReplaySource } from "../../src/agents/types.js";
import { selectBackend } from "../../src/backend/index.js";
import { loadConfig } from "../../src/config/load.js";
import { Rng } from "../../src/core/rng.js";
import { box, discrete, type Space } from "../../src/envs/spaces.js";
import { ReplayBuffer } from "../../src/replay/buffer.js";
import { agentOf, RUN_SIZES } from "../helpers/agents.js";

beforeAll(async () => {
  await selectBackend("cpu");
});

const TINY = [
  "agent.kind=qttdm",
  "agent.tdm={layers: 1, width: 16, heads: 2, context: 4, headHidden: [16]}",
  "agent.tdmTrain.batchSize=4",
  "agent.qt.width=16",
  "agent.qt.heads=2",
  "agent.qt.headHidden=16",
  "agent.qt.bins=5",
  "agent.network.hidden=[16]",
  "agent.planner.samples=8",
  "agent.planner.proposals=2",
  "agent.planner.elites=4",
  "agent.planner.iterations=2",
  "train.batchSize=8",
  "replay.nStep=2",
];

function makeAgent(actionSpace: Space, set: string[] = []) {
  const cfg = loadConfig({ set: [...TINY, ...set] });
  const spec: AgentEnvSpec = { observationSpace: box(-10, 10, [3]), actionSpace };
  const agent = new QttdmAgent({ agent: agentOf(cfg, "qttdm"), disrc: cfg.disrc, ...RUN_SIZES, batchSize: cfg.train.batchSize }, spec, new Rng(1));
  return { agent, cfg };
}

/** A buffer with a few episodes of random transitions in the agent's action format. */
function filledReplay(agent: QttdmAgent, set: string[] = []): ReplaySource {
  const cfg = loadConfig({ set: [...TINY, ...set] });
  const buf = new ReplayBuffer(agent.replaySpec(), { ...cfg.replay, capacity: 500 });
  const rng = new Rng(9);
  const m = agent.coder.discrete ? 1 : agent.coder.dims;
  for (let ep = 0; ep < 6; ep++) {
    let obs = rng.fillNormal(new Float32Array(3), 0, 1) as Float32Array;
    for (let t = 0; t < 20; t++) {
      const next = rng.fillNormal(new Float32Array(3), 0, 1) as Float32Array;
      const action = agent.coder.discrete ? [rng.integers(0, agent.coder.bins)] : agent.coder.toEnv(rng.fillUniform(new Float32Array(m), -1, 1), 1);
      const end = t === 19;
      buf.add({ obs, action, reward: [rng.normal()], terminated: [end && ep % 2 ? 1 : 0], truncated: [end && ep % 2 === 0 ? 1 : 0], nextObs: next, episodeId: [ep], stepInEpisode: [t] });
      obs = next;
    }
  }
  const r = new Rng(10);
  return { sample: (n) => buf.sample(n, r), sampleSequences: (n, len) => buf.sampleSequences(n, len, r), sampleObservations: (n) => buf.sampleObservations(n, r) };
}

describe("QttdmAgent", () => {
  it("discrete: a DQN critic, a one-step QT and a TDM train jointly; critic TD errors drive priorities", () => {
    const { agent } = makeAgent(discrete(3), ["disrc.enabled=true", "disrc.source=tdm"]);
    expect(agent.critic).not.toBeNull();
    expect(agent.mode).toBe("critic");
    expect(agent.priority).toBe("critic");
    expect(Object.keys(agent.parameterCounts()).sort()).toEqual(["critic", "qt", "tdm"]);
    const replay = filledReplay(agent);
    const r = agent.update(replay);
    expect(r.indices.length).toBe(8);
    expect(r.tdError.length).toBe(8);
    expect(r.surprise!.length).toBe(8);
    for (const k of ["critic/td_loss", "critic/q_values", "qt/td_loss", "qt/q_values", "tdm/loss", "tdm/state_loss", "disrc/surprise_mean", "losses/td_loss"]) {
      expect(Number.isFinite(r.scalars[k]!), k).toBe(true);
    }
    expect(r.scalars["losses/td_loss"]).toBe(r.scalars["critic/td_loss"]);
    const a = agent.act(new Float32Array(6), 2, "greedy", 0, new Rng(2));
    expect(a).toBeInstanceOf(Int32Array);
    expect(a.length).toBe(2);
    agent.dispose();
  });

  it("continuous: no critic, the QT drives priorities; MPPI actions inside the bounds", () => {
    const { agent } = makeAgent(box(-3, 3, [2]), ["disrc.enabled=true", "disrc.source=model", "agent.joint.consistencyWeight=0.5", "agent.joint.consistencyHorizon=2"]);
    expect(agent.critic).toBeNull();
    expect(agent.mode).toBe("mppi");
    expect(agent.priority).toBe("qt");
    const r = agent.update(filledReplay(agent));
    expect(r.tdError.length).toBe(8);
    expect(r.scalars["losses/td_loss"]).toBe(r.scalars["qt/td_loss"]);
    expect(r.scalars["qt/consistency_loss"]).toBeGreaterThanOrEqual(0);
    expect(r.scalars["critic/td_loss"]).toBeUndefined();
    const rng = new Rng(3);
    for (const mode of ["greedy", "explore"] as const) {
      const a = agent.act(new Float32Array(9).fill(0.3), 3, mode, 900, rng);
      expect(a).toBeInstanceOf(Float32Array);
      expect(a.length).toBe(6);
      expect(Array.from(a).every((v) => v >= -3 && v <= 3)).toBe(true);
    }
    expect(agent.actScalars(0)["planner/ms_per_action"]).toBeGreaterThan(0);
    agent.dispose();
  });

  it("acts by every configured mode and refuses impossible combinations", () => {
    for (const mode of ["mppi", "qt", "critic"]) {
      const { agent } = makeAgent(discrete(4), [`agent.planner.mode=${mode}`]);
      const a = agent.act(new Float32Array(3), 1, "greedy", 0, new Rng(4));
      expect(a[0]).toBeGreaterThanOrEqual(0);
      expect(a[0]).toBeLessThan(4);
      agent.dispose();
    }
    const q = makeAgent(box(-1, 1, [3]), ["agent.planner.mode=qt"]).agent;
    expect(q.act(new Float32Array(3), 1, "greedy", 0, new Rng(5)).length).toBe(3);
    q.dispose();
    expect(() => makeAgent(box(-1, 1, [2]), ["agent.planner.mode=critic"])).toThrow(/agent\.planner\.mode/);
    expect(() => makeAgent(box(-1, 1, [2]), ["agent.joint.critic=on"])).toThrow(/agent\.joint\.critic/);
    expect(() => makeAgent(discrete(2), ["agent.average.horizon=1000"])).toThrow(/"agent.average" is not a key of agent.kind "qttdm"; agent.kind "dqn" accepts it/);
    expect(() => makeAgent(discrete(2), ["agent.exploration.network=target"])).toThrow(/agent\.exploration\.network.*QT\/planner/);
    expect(() => makeAgent(discrete(2), ["agent.joint.priority=qt", "agent.qt.updateEvery=2"])).toThrow(/agent\.qt\.updateEvery/);
  });

  it("keeps the tensor count flat over updates and acting", () => {
    for (const space of [discrete(3), box(-1, 1, [2])]) {
      const { agent } = makeAgent(space, ["agent.planner.mode=mppi", "disrc.enabled=true", "disrc.source=tdm", "agent.joint.consistencyWeight=0.1"]);
      const replay = filledReplay(agent);
      const rng = new Rng(6);
      agent.update(replay);
      agent.act(new Float32Array(6), 2, "explore", 0, rng);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        agent.update(replay);
        agent.act(new Float32Array(6), 2, "explore", 500, rng);
        agent.act(new Float32Array(3), 1, "greedy", 500, rng);
      }
      expect(tf.memory().numTensors).toBe(before);
      agent.dispose();
    }
  });

  it("restores its state exactly: same actions and same next update", () => {
    const set = ["agent.planner.mode=mppi", "disrc.enabled=true", "disrc.source=tdm"];
    const a = makeAgent(box(-1, 1, [2]), set).agent;
    const replay = filledReplay(a);
    for (let i = 0; i < 2; i++) a.update(replay);
    a.act(new Float32Array(3).fill(0.1), 1, "greedy", 0, new Rng(7));
    const b = makeAgent(box(-1, 1, [2]), set).agent;
    b.load(a.state());
    expect(Array.from(b.act(new Float32Array(3).fill(0.2), 1, "greedy", 0, new Rng(8)))).toEqual(Array.from(a.act(new Float32Array(3).fill(0.2), 1, "greedy", 0, new Rng(8))));
    const ra = a.update(filledReplay(a));
    const rb = b.update(filledReplay(b));
    expect(Array.from(rb.tdError)).toEqual(Array.from(ra.tdError));
    expect(rb.scalars["tdm/loss"]).toBe(ra.scalars["tdm/loss"]);
    a.dispose();
    b.dispose();
  });

  it("symlog observations: the networks see sign(x)·ln(1 + |x|)", () => {
    expect(Array.from(symlog(Float32Array.from([0, Math.E - 1, -(Math.E - 1)])))).toEqual([0, 1, -1].map(Math.fround));
    const set = ["agent.planner.mode=mppi"];
    const a = makeAgent(box(-1, 1, [2]), [...set, "agent.joint.observations=symlog"]).agent;
    const b = makeAgent(box(-1, 1, [2]), set).agent;
    const replay = filledReplay(a);
    a.update(replay);
    b.load(a.state());
    const x = Float32Array.from([30, -200, 0.5]);
    expect(Array.from(a.act(x, 1, "greedy", 0, new Rng(11)))).toEqual(Array.from(b.act(symlog(x), 1, "greedy", 0, new Rng(11))));
    a.dispose();
    b.dispose();
  });

  it("reports parameter counts that follow agent.tdm", () => {
    const counts = ["{size: small, width: 16, heads: 2, headHidden: [8]}", "{size: small, width: 32, heads: 2, headHidden: [8]}", "{size: small, layers: 3, width: 32, heads: 2, headHidden: [8]}"].map((t) => {
      const { agent } = makeAgent(discrete(2), [`agent.tdm=${t}`]);
      const c = agent.parameterCounts();
      agent.dispose();
      return c;
    });
    expect(counts[0]!.tdm).toBeLessThan(counts[1]!.tdm!);
    expect(counts[1]!.tdm).toBeLessThan(counts[2]!.tdm!);
    expect(counts[0]!.qt).toBe(counts[2]!.qt);
    expect(counts[0]!.critic).toBe(counts[2]!.critic);
  });
});
