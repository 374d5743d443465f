import { it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { loadConfig } from "../../src/config/load.js";
import { selectBackend } from "../../src/backend/index.js";
import { makeEnv } from "../../src/envs/index.js";
import { Rng } from "../../src/core/rng.js";
import { QttdmAgent } from "../../src/agents/qttdm/agent.js";
import { ReplayBuffer } from "../../src/replay/buffer.js";

it("prof", async () => {
  for (const backend of ["cpu", "wasm"] as const) {
    await selectBackend(backend);
    const cfg = loadConfig({ config: process.env.PRESET ?? "lunarlander-continuous/qttdm", set: (process.env.SETS ?? "").split(" ").filter(Boolean) });
    const env = await makeEnv(cfg.env.id);
    const agent = new QttdmAgent({ agent: cfg.agent, disrc: cfg.disrc, totalSteps: cfg.experiment.totalSteps, batchSize: cfg.train.batchSize }, env, new Rng(1));
    const buf = new ReplayBuffer(agent.replaySpec(), { ...cfg.replay, capacity: 5000 });
    const rng = new Rng(2);
    let obs = env.reset({ seed: 1 }).observation;
    let ep = 0, st = 0;
    for (let i = 0; i < 600; i++) {
      const a = agent.act(obs, 1, "explore", 0, rng);
      const r = env.step(a instanceof Int32Array ? a[0]! : a);
      buf.add({ obs, action: a, reward: [r.reward], terminated: [r.terminated ? 1 : 0], truncated: [r.truncated ? 1 : 0], nextObs: r.observation, episodeId: [ep], stepInEpisode: [st] });
      st++;
      obs = r.observation;
      if (r.terminated || r.truncated) { ep++; st = 0; obs = env.reset().observation; }
    }
    const src = { sample: (n: number) => buf.sample(n, rng), sampleSequences: (n: number, l: number) => buf.sampleSequences(n, l, rng) };
    agent.update(src);
    let t = performance.now();
    const U = 5;
    let sc: any;
    for (let i = 0; i < U; i++) sc = agent.update(src).scalars;
    const upd = (performance.now() - t) / U;
    t = performance.now();
    for (let i = 0; i < 5; i++) agent.act(obs, 1, "greedy", 1e9, rng);
    const act = (performance.now() - t) / 5;
    console.log(backend, cfg.env.id, "update ms", upd.toFixed(1), "act ms", act.toFixed(1), JSON.stringify(agent.parameterCounts()), tf.memory().numTensors);
    agent.dispose();
    env.close();
  }
}, 600000);
