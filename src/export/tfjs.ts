/**
 * tfjs-layers export of a greedy policy: a LayersModel directory (model.json and one weights file) that
 * `tf.loadLayersModel` reads in a browser or in Node. Built from built-in layers only, so that no custom code is
 * needed to load it:
 * - dense layers with their activation (`relu`, `tanh`, `gelu` — the exact erf form — or `linear`; leaky ReLU as a
 *   linear dense layer followed by a `leakyReLU` layer with alpha 0.01);
 * - `layerNormalization` over the last axis with the agent's epsilon, gamma and beta, then an `activation` layer;
 * - the dueling head as dense `value` [1] and `advantage` [actions] layers, concatenated, and a bias-free dense
 *   layer with fixed weights computing Q_j = V + A_j − mean(A) (kernel row 0 all ones, rows 1.. the identity minus
 *   1/actions).
 * The model outputs Q-values; the greedy action is their argmax. Symlog preprocessing (QT-TDM critics with
 * `agent.joint.observations: symlog`) has no built-in layer: it is recorded in the model's userDefinedMetadata
 * (`preprocess: "symlog"`) for the caller to apply to observations first.
 */
import * as tf from "@tensorflow/tfjs";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { GreedyPolicy } from "./policy.js";
import { policyMetadata } from "./onnx.js";
import type { DenseSpecActivation } from "./types.js";

export const TFJS_MODEL_FILE = "model.json";
export const TFJS_WEIGHTS_FILE = "group1-shard1of1.bin";

/** The policy as a tfjs-layers model (input `observation` [batch, obsDim], output Q-values [batch, actions]). */
export function tfjsModel(policy: GreedyPolicy): tf.LayersModel {
  const weights: [tf.layers.Layer, Float32Array[]][] = [];
  const input = tf.input({ shape: [policy.obsDim], name: "observation", dtype: "float32" });
  let x: tf.SymbolicTensor = input;
  const activation = (h: tf.SymbolicTensor, act: DenseSpecActivation, name: string): tf.SymbolicTensor => {
    if (act === "linear") return h;
    if (act === "leaky_relu") return tf.layers.leakyReLU({ alpha: 0.01, name: `${name}_leaky_relu` }).apply(h) as tf.SymbolicTensor;
    return tf.layers.activation({ activation: act, name: `${name}_${act}` }).apply(h) as tf.SymbolicTensor;
  };
  const dense = (h: tf.SymbolicTensor, units: number, kernel: Float32Array, bias: Float32Array | null, act: DenseSpecActivation, name: string): tf.SymbolicTensor => {
    const fused = act === "leaky_relu" ? "linear" : act;
    const layer = tf.layers.dense({ units, activation: fused, useBias: bias !== null, name });
    const y = layer.apply(h) as tf.SymbolicTensor;
    weights.push([layer, bias ? [kernel, bias] : [kernel]]);
    return act === "leaky_relu" ? activation(y, act, name) : y;
  };

  policy.layers.forEach((l, i) => {
    if (l.kind === "dense") {
      x = dense(x, l.outDim, l.kernel, l.bias, l.activation, `dense_${i}`);
    } else if (l.kind === "layerNorm") {
      const layer = tf.layers.layerNormalization({ axis: -1, epsilon: l.eps, name: `layer_norm_${i}` });
      x = layer.apply(x) as tf.SymbolicTensor;
      weights.push([layer, [l.gamma, l.beta]]);
      x = activation(x, l.activation, `layer_norm_${i}`);
    } else {
      const A = l.actions;
      const v = dense(x, 1, l.value.kernel, l.value.bias, "linear", "value");
      const a = dense(x, A, l.advantage.kernel, l.advantage.bias, "linear", "advantage");
      const va = tf.layers.concatenate({ axis: -1, name: "value_advantage" }).apply([v, a]) as tf.SymbolicTensor;
      const combine = new Float32Array((1 + A) * A);
      for (let j = 0; j < A; j++) {
        combine[j] = 1; // + V
        for (let k = 0; k < A; k++) combine[(1 + k) * A + j] = (k === j ? 1 : 0) - 1 / A; // + A_j − mean(A)
      }
      const layer = tf.layers.dense({ units: A, useBias: false, trainable: false, name: "dueling" });
      x = layer.apply(va) as tf.SymbolicTensor;
      weights.push([layer, [combine]]);
    }
  });
  const model = tf.model({ inputs: input, outputs: x, name: "qttdm_policy" });
  for (const [layer, values] of weights) {
    const shapes = layer.getWeights().map((w) => w.shape);
    layer.setWeights(values.map((v, k) => tf.tensor(v, shapes[k], "float32")));
  }
  model.setUserDefinedMetadata({
    qttdm: {
      ...Object.fromEntries(Object.entries(policyMetadata(policy, "float32")).map(([k, v]) => [k.replace(/^qttdm\./, ""), v])),
      obs_dim: policy.obsDim,
      actions: policy.actions,
      outputs: "q_values: float32 [batch, actions]; the greedy action is their argmax",
    },
  });
  return model;
}

/** model.json (as an object) and the weights file of the policy's LayersModel. */
export async function tfjsArtifacts(policy: GreedyPolicy): Promise<{ modelJson: tf.io.ModelJSON; weights: Uint8Array }> {
  const model = tfjsModel(policy);
  try {
    let saved: tf.io.ModelArtifacts | null = null;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }));
    const art = saved! as tf.io.ModelArtifacts;
    const data = art.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(art.weightData);
    const modelJson: tf.io.ModelJSON = {
      modelTopology: art.modelTopology as object,
      format: art.format,
      generatedBy: art.generatedBy,
      convertedBy: art.convertedBy,
      weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: art.weightSpecs ?? [] }],
      userDefinedMetadata: art.userDefinedMetadata,
    };
    return { modelJson, weights: new Uint8Array(data) };
  } finally {
    model.dispose();
  }
}

/** Writes model.json and its weights file into `dir`; returns their paths. */
export async function writeTfjs(policy: GreedyPolicy, dir: string): Promise<string[]> {
  const { modelJson, weights } = await tfjsArtifacts(policy);
  mkdirSync(dir, { recursive: true });
  const files = [join(dir, TFJS_MODEL_FILE), join(dir, TFJS_WEIGHTS_FILE)];
  writeFileSync(files[0]!, JSON.stringify(modelJson));
  writeFileSync(files[1]!, weights);
  return files;
}

/**
 * A tfjs load handler reading a LayersModel directory (model.json and the weight files it lists) from disk:
 * `tf.loadLayersModel(tfjsFileHandler(dir))` in Node, where `@tensorflow/tfjs` has no `file://` handler of its
 * own (that comes with tfjs-node).
 */
export function tfjsFileHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(readFileSync(join(dir, TFJS_MODEL_FILE), "utf8")) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((g) => g.weights);
        const parts = manifest.flatMap((g) => g.paths.map((p) => {
          const b = readFileSync(join(dir, p));
          return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
        }));
        return [specs, tf.io.concatenateArrayBuffers(parts)];
      });
    },
  };
}
