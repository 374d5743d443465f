/**
 * The greedy policy of a checkpoint as plain arrays, for the exporters (ONNX, tfjs-layers) and the server: the
 * Q-network the agent acts greedily with, as a list of layers from observation to Q-values. Which network:
 * a DQN run's weight average when it keeps one (`agent.average`, what `eval` evaluates), else its online critic;
 * a QT-TDM run's DQN critic when it acts by it (`agent.planner.mode: critic`). Planning and the Q-Transformer's
 * autoregressive decoding stay in qttdm: those runs get a clear error. export/forward.ts computes the network.
 */
import type * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../backend/index.js";
import type { Config } from "../config/schema.js";
import { QttdmError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { DqnAgent } from "../agents/dqn/agent.js";
import type { QNetwork } from "../agents/dqn/q-network.js";
import { QttdmAgent } from "../agents/qttdm/agent.js";
import { makeEnv } from "../envs/index.js";
import type { DenseSpecActivation } from "./types.js";
import type { Mlp } from "../nets/layers.js";
import { createAgent } from "../train/agents.js";
import { loadCheckpoint } from "../train/checkpoint.js";
import { readRunConfig } from "../train/run-dir.js";

/** One layer of the greedy network, applied in order. Kernels are [in, out], row-major. */
export type DenseLayer = { kind: "dense"; inDim: number; outDim: number; kernel: Float32Array; bias: Float32Array | null; activation: DenseSpecActivation };
export type PolicyLayer =
  | DenseLayer
  | { kind: "layerNorm"; dim: number; gamma: Float32Array; beta: Float32Array; eps: number; activation: DenseSpecActivation }
  /** Q = V + A − mean(A) from the same input: value [in, 1], advantage [in, actions]. */
  | { kind: "dueling"; inDim: number; actions: number; value: { kernel: Float32Array; bias: Float32Array }; advantage: { kernel: Float32Array; bias: Float32Array } };

export interface GreedyPolicy {
  env: string;
  obsDim: number;
  actions: number;
  /** Applied to observations before the first layer (QT-TDM's `agent.joint.observations: symlog`). */
  preprocess: "none" | "symlog";
  layers: PolicyLayer[];
  /** Which network this is, for the exported model's description. */
  source: string;
  checkpoint: string;
  config: Config;
}

const values = (t: tf.Tensor) => Float32Array.from(t.dataSync() as Float32Array);

function mlpLayers(mlp: Mlp): PolicyLayer[] {
  const out: PolicyLayer[] = [];
  mlp.layers.forEach((l, i) => {
    const norm = mlp.norms[i] ?? null;
    // A normed layer's Dense is linear; its activation follows the norm.
    const act: DenseSpecActivation = norm ? mlp.activations[i]! : l.activation;
    out.push({ kind: "dense", inDim: l.inDim, outDim: l.outDim, kernel: values(l.kernel), bias: l.bias ? values(l.bias) : null, activation: norm ? "linear" : act });
    if (norm) out.push({ kind: "layerNorm", dim: norm.dim, gamma: values(norm.gamma), beta: values(norm.beta), eps: norm.eps, activation: act });
  });
  return out;
}

function networkLayers(net: QNetwork): PolicyLayer[] {
  const layers = [...mlpLayers(net.encoder), ...(net.head ? mlpLayers(net.head) : [])];
  if (net.heads > 1) layers.push(averageHeads(layers.pop() as DenseLayer, net.heads));
  if (net.dueling) {
    const { value, advantage } = net.dueling;
    layers.push({
      kind: "dueling",
      inDim: value.inDim,
      actions: advantage.outDim,
      value: { kernel: values(value.kernel), bias: values(value.bias!) },
      advantage: { kernel: values(advantage.kernel), bias: values(advantage.bias!) },
    });
  }
  return layers;
}

/**
 * The mean of K linear Q-heads side by side ([in, K·A], head k in columns kA…kA+A−1) is itself one
 * linear layer [in, A] with the heads' kernels and biases averaged: the exported network acts as the agent.
 */
function averageHeads(layer: DenseLayer, heads: number): DenseLayer {
  const actions = layer.outDim / heads;
  const kernel = new Float32Array(layer.inDim * actions);
  const bias = layer.bias ? new Float32Array(actions) : null;
  for (let k = 0; k < heads; k++) {
    for (let a = 0; a < actions; a++) {
      for (let i = 0; i < layer.inDim; i++) kernel[i * actions + a]! += layer.kernel[i * layer.outDim + k * actions + a]! / heads;
      if (bias) bias[a]! += layer.bias![k * actions + a]! / heads;
    }
  }
  return { ...layer, outDim: actions, kernel, bias };
}

/**
 * Reads the greedy Q-network of a checkpoint (run directory, its checkpoints/ or one checkpoint).
 * @throws QttdmError for runs whose greedy policy is not a Q-network (planning, the QT's decoding, continuous actions)
 */
export async function greedyPolicy(checkpoint: string): Promise<GreedyPolicy> {
  const config = readRunConfig(checkpoint);
  const ckpt = loadCheckpoint(checkpoint);
  await selectBackend("cpu");
  const env = await makeEnv(config.env.id, config.env.options);
  const agent = createAgent(config, env, new Rng(0), { restoring: true });
  try {
    agent.load(ckpt.agent);
    let net: QNetwork;
    let source: string;
    let preprocess: GreedyPolicy["preprocess"] = "none";
    if (agent instanceof DqnAgent) {
      net = agent.average ?? agent.online;
      source = agent.average ? "the DQN critic's weight average (agent.average)" : "the online DQN critic";
    } else if (agent instanceof QttdmAgent) {
      if (agent.mode !== "critic" || !agent.critic) {
        throw new QttdmError(
          `export: ${ckpt.dir} is a qttdm run that acts by ${agent.mode === "mppi" ? "MPPI planning over the TDM" : "the Q-Transformer's autoregressive decoding"}; only a greedy Q-network can be exported (a qttdm run with agent.planner.mode: critic, or a dqn run)`,
        );
      }
      net = agent.critic.online;
      source = "the QT-TDM agent's DQN critic";
      if (agent.settings.agent.joint.observations === "symlog") preprocess = "symlog";
    } else {
      throw new QttdmError(`export: agent kind ${JSON.stringify(config.agent.kind)} has no exportable greedy Q-network`);
    }
    return { env: config.env.id, obsDim: net.obsDim, actions: net.numActions, preprocess, layers: networkLayers(net), source, checkpoint: ckpt.dir, config };
  } finally {
    agent.dispose();
    env.close();
  }
}
