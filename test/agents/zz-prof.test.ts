import { it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { loadConfig } from "../../src/config/load.js";
import { selectBackend } from "../../src/backend/index.js";
import { makeEnv } from "../../src/envs/index.js";
import { Rng } from "../../src/core/rng.js";
import { QttdmAgent } from "../../src/agents/qttdm/agent.js";
import { ReplayBuffer } from "../../src/replay/buffer.js";

function time(label: string, f: () => void, reps = 8) {
  f();
  const t = performance.now();
  for (let i = 0; i < reps; i++) f();
  const ms = (performance.now() - t) / reps;
  console.log(label, ms.toFixed(1), "ms");
  return ms;
}

it("prof", async () => {
  await selectBackend("wasm");
  const cfg = loadConfig({ config: process.env.PRESET ?? "lunarlander/qttdm", set: (process.env.SETS ?? "").split(" ").filter(Boolean) });
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
  const b = buf.sample(cfg.train.batchSize, rng);
  const w = b.weights;
  if (agent.critic) time("critic update", () => agent.critic!.update({ sample: () => b, sampleSequences: () => { throw new Error(); } }));
  time("qt update", () => agent.qt.update(b, w, 1));
  time("tdm update", () => agent.tdm.update(buf.sampleSequences(cfg.agent.tdmTrain.batchSize, agent.tdm.model.arch.context, rng)));
  time("agent update", () => agent.update(src));
  time("act explore", () => agent.act(obs, 1, "explore", 1e9, rng));
  console.log(JSON.stringify(agent.parameterCounts()), tf.memory().numTensors);
  agent.dispose();
  env.close();
}, 600000);
