/**
 * The greedy policy of a checkpoint as plain arrays, for the exporters (ONNX, tfjs-layers) and the server: the
 * Q-network the agent acts greedily with, as a list of layers from observation to Q-values. Which network:
 * a DQN run's weight average when it keeps one (`agent.average`, what `eval` evaluates), else its online critic;
 * a QT-TDM run's DQN critic when it acts by it (`agent.planner.mode: critic`). Planning and the Q-Transformer's
 * autoregressive decoding stay in qttdm: those runs get a clear error.
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
export type PolicyLayer =
  | { kind: "dense"; inDim: number; outDim: number; kernel: Float32Array; bias: Float32Array | null; activation: DenseSpecActivation }
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
 * Reads the greedy Q-network of a checkpoint (run directory, its checkpoints/ or one checkpoint).
 * @throws QttdmError for runs whose greedy policy is not a Q-network (planning, the QT's decoding, continuous actions)
 */
export async function greedyPolicy(checkpoint: string): Promise<GreedyPolicy> {
  const config = readRunConfig(checkpoint);
  const ckpt = loadCheckpoint(checkpoint);
  await selectBackend("cpu");
  const env = await makeEnv(config.env.id, config.env.options);
  const agent = createAgent({ ...config, agent: { ...config.agent, encoderInit: null } }, env, new Rng(0));
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
      if (config.agent.joint.observations === "symlog") preprocess = "symlog";
    } else {
      throw new QttdmError(`export: agent kind ${JSON.stringify(config.agent.kind)} has no exportable greedy Q-network`);
    }
    return { env: config.env.id, obsDim: net.obsDim, actions: net.numActions, preprocess, layers: networkLayers(net), source, checkpoint: ckpt.dir, config };
  } finally {
    agent.dispose();
    env.close();
  }
}

/**
 * The greedy policy's Q-values computed from the arrays alone (float64 accumulation): the reference the exported
 * models are checked against, and a backend-free way to act.
 * @param obs [n * obsDim] @returns Q-values [n * actions]
 */
export function policyQValues(p: GreedyPolicy, obs: Float32Array, n: number): Float32Array {
  let x: Float64Array<ArrayBufferLike> = Float64Array.from(obs);
  if (p.preprocess === "symlog") x = x.map((v) => Math.sign(v) * Math.log1p(Math.abs(v)));
  let dim = p.obsDim;
  const dense = (input: Float64Array, inDim: number, outDim: number, kernel: Float32Array, bias: Float32Array | null) => {
    const out = new Float64Array(n * outDim);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < outDim; j++) {
        let s = bias ? bias[j]! : 0;
        for (let k = 0; k < inDim; k++) s += input[r * inDim + k]! * kernel[k * outDim + j]!;
        out[r * outDim + j] = s;
      }
    }
    return out;
  };
  for (const l of p.layers) {
    if (l.kind === "dense") {
      x = activate(dense(x, l.inDim, l.outDim, l.kernel, l.bias), l.activation);
      dim = l.outDim;
    } else if (l.kind === "layerNorm") {
      const y = new Float64Array(x.length);
      for (let r = 0; r < n; r++) {
        let m = 0;
        for (let k = 0; k < dim; k++) m += x[r * dim + k]!;
        m /= dim;
        let v = 0;
        for (let k = 0; k < dim; k++) v += (x[r * dim + k]! - m) ** 2;
        const rstd = 1 / Math.sqrt(v / dim + l.eps);
        for (let k = 0; k < dim; k++) y[r * dim + k] = (x[r * dim + k]! - m) * rstd * l.gamma[k]! + l.beta[k]!;
      }
      x = activate(y, l.activation);
    } else {
      const v = dense(x, l.inDim, 1, l.value.kernel, l.value.bias);
      const a = dense(x, l.inDim, l.actions, l.advantage.kernel, l.advantage.bias);
      const q = new Float64Array(n * l.actions);
      for (let r = 0; r < n; r++) {
        let mean = 0;
        for (let j = 0; j < l.actions; j++) mean += a[r * l.actions + j]!;
        mean /= l.actions;
        for (let j = 0; j < l.actions; j++) q[r * l.actions + j] = v[r]! + a[r * l.actions + j]! - mean;
      }
      x = q;
      dim = l.actions;
    }
  }
  return Float32Array.from(x);
}

function activate(x: Float64Array<ArrayBufferLike>, act: DenseSpecActivation): Float64Array<ArrayBufferLike> {
  switch (act) {
    case "linear":
      return x;
    case "relu":
      return x.map((v) => Math.max(0, v));
    case "leaky_relu":
      return x.map((v) => (v > 0 ? v : 0.01 * v));
    case "tanh":
      return x.map(Math.tanh);
    case "gelu":
      return x.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
  }
}

/** erf to ~1e-7 (Abramowitz and Stegun 7.1.26), as the backends' GELU. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}
