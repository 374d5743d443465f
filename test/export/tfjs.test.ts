// tfjs-layers export: real tiny runs written as a LayersModel directory, loaded back with tf.loadLayersModel from
// the files (a load handler reading them: @tensorflow/tfjs has no file:// handler without tfjs-node) and compared
// with the float64 reference forward and the agent's own network.
import * as tf from "@tensorflow/tfjs";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import { argmaxRows, policyQValues } from "../../src/export/forward.js";
import { greedyPolicy } from "../../src/export/policy.js";
import { TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE, tfjsFileHandler, writeTfjs } from "../../src/export/tfjs.js";
import { agentQValues, clearRows, expectRelClose, tinyRun, VARIANTS } from "./helpers.js";

describe("tfjs-layers export", () => {
  it.each([...VARIANTS, ["leaky ReLU, dueling", ["agent.network.activation=leaky_relu", "agent.network.dueling=true"]] as const])(
    "%s: the loaded LayersModel computes the agent's Q-values and actions",
    async (_, extra) => {
      const dir = await tinyRun(extra);
      const p = await greedyPolicy(dir);
      const out = join(mkdtempSync(join(tmpdir(), "qttdm-tfjs-")), "policy-tfjs");
      const files = await writeTfjs(p, out);
      expect(files).toEqual([join(out, TFJS_MODEL_FILE), join(out, TFJS_WEIGHTS_FILE)]);
      const json = JSON.parse(readFileSync(files[0]!, "utf8"));
      expect(json.format).toBe("layers-model");
      expect(json.weightsManifest[0].paths).toEqual([TFJS_WEIGHTS_FILE]);
      const classes = new Set<string>(json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name));
      // Built-in layers only: loadable in a browser without qttdm's code.
      for (const c of classes) expect(["InputLayer", "Dense", "LayerNormalization", "Activation", "LeakyReLU", "Concatenate"]).toContain(c);

      // The model runs where a user runs it: tfjs's own cpu backend (not a native qttdm backend forced by QTTDM_BACKEND,
      // which has no kernels for some tfjs-layers ops such as LayerNormalization's FusedBatchNorm).
      await tf.setBackend("cpu");
      const model = await tf.loadLayersModel(tfjsFileHandler(out));
      const n = 64;
      const obs = new Rng(3).fillNormal(new Float32Array(n * p.obsDim), 0, 1);
      const q = tf.tidy(() => Float32Array.from((model.predict(tf.tensor2d(obs, [n, p.obsDim])) as tf.Tensor).dataSync()));
      const ref = policyQValues(p, obs, n);
      const agent = await agentQValues(dir, p, obs, n);
      expectRelClose(q, ref, 1e-5);
      expectRelClose(q, agent, 1e-5);
      const actions = argmaxRows(q, n, p.actions);
      const refActions = argmaxRows(ref, n, p.actions);
      const agentActions = argmaxRows(agent, n, p.actions);
      const clear = clearRows(ref, n, p.actions, 1e-5);
      expect(clear.length).toBeGreaterThan(n / 2);
      for (const r of clear) {
        expect(actions[r]).toBe(refActions[r]);
        expect(actions[r]).toBe(agentActions[r]);
      }
      const meta = model.getUserDefinedMetadata() as { qttdm: Record<string, unknown> };
      expect(meta.qttdm).toMatchObject({ env: "LunarLander-v3", obs_dim: 8, actions: 4, preprocess: "none", checkpoint: p.checkpoint, source: p.source });
      if (extra.some((e) => e.includes("dueling"))) expect(classes).toContain("Concatenate");
      if (extra.some((e) => e.includes("leaky_relu"))) expect(classes).toContain("LeakyReLU");
      model.dispose();
      expect(existsSync(join(out, TFJS_WEIGHTS_FILE))).toBe(true);
    },
  );
});
