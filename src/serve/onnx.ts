/**
 * An ONNX model as a serving policy: ONNX Runtime (onnxruntime-node, whose native library ships inside the npm
 * package) runs a model with the interface `qttdm export` writes: input `observation` float32 [N, obsDim], outputs
 * `q_values` float32 [N, actions] and `action` int64 [N].
 */
import { existsSync } from "node:fs";
import { QttdmError, show } from "../core/errors.js";
import { argmaxRows } from "../export/forward.js";
import type { PolicyOutput, ServePolicy } from "./policy.js";

type Ort = typeof import("onnxruntime-node");
type Session = import("onnxruntime-node").InferenceSession;

function tensorShape(meta: readonly unknown[], name: string): readonly (number | string)[] | null {
  const m = meta.find((v) => (v as { name: string }).name === name) as { isTensor?: boolean; shape?: readonly (number | string)[] } | undefined;
  return m && m.isTensor && Array.isArray(m.shape) ? m.shape : null;
}

export class OnnxPolicy implements ServePolicy {
  private constructor(
    private readonly ort: Ort,
    private readonly session: Session,
    readonly obsDim: number,
    readonly numActions: number,
    private readonly hasAction: boolean,
    readonly description: string,
  ) {}

  /**
   * Opens the model and checks its interface.
   * @param threads ONNX Runtime's intra-op threads (1 by default: a server's batches are small)
   * @throws QttdmError for a missing file, a model ONNX Runtime cannot load, or a different interface
   */
  static async open(file: string, opts: { threads?: number } = {}): Promise<OnnxPolicy> {
    if (!existsSync(file)) throw new QttdmError(`--model ${show(file)}: no such file (an ONNX model written by qttdm export)`);
    return OnnxPolicy.load(file, `--model ${show(file)}`, `ONNX model ${file}`, opts);
  }

  /** A model held in memory (`qttdm serve --checkpoint RUN --int8` builds one), described as `what`. */
  static async fromBytes(bytes: Uint8Array, what: string, opts: { threads?: number } = {}): Promise<OnnxPolicy> {
    return OnnxPolicy.load(bytes, what, what, opts);
  }

  private static async load(model: string | Uint8Array, where: string, what: string, opts: { threads?: number }): Promise<OnnxPolicy> {
    const ort = await import("onnxruntime-node");
    let session: Session;
    try {
      const options = { intraOpNumThreads: opts.threads ?? 1, interOpNumThreads: 1, graphOptimizationLevel: "all" as const };
      session = typeof model === "string" ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
    } catch (e) {
      throw new QttdmError(`${where}: ONNX Runtime cannot load it: ${String((e as Error).message ?? e).split("\n")[0]}`);
    }
    const bad = (why: string) => new QttdmError(`${where}: ${why}; expected input "observation" float32 [N, obsDim] and outputs "q_values" float32 [N, actions] (and "action" int64 [N]), as qttdm export writes`);
    if (!session.inputNames.includes("observation")) throw bad(`inputs ${show(session.inputNames)}`);
    if (!session.outputNames.includes("q_values")) throw bad(`outputs ${show(session.outputNames)}`);
    const inShape = tensorShape(session.inputMetadata, "observation");
    const qShape = tensorShape(session.outputMetadata, "q_values");
    const obsDim = inShape?.[1];
    const actions = qShape?.[1];
    if (typeof obsDim !== "number" || typeof actions !== "number" || inShape!.length !== 2 || qShape!.length !== 2) {
      throw bad(`input shape ${show(inShape)}, q_values shape ${show(qShape)}`);
    }
    const policy = new OnnxPolicy(ort, session, obsDim, actions, session.outputNames.includes("action"), `${what} (${obsDim} inputs, ${actions} actions), ONNX Runtime ${ort.env.versions.node ?? ""}`.trim());
    // The first run allocates and plans: do it now, not on the first request.
    await policy.run(new Float32Array(obsDim), 1);
    return policy;
  }

  async run(obs: Float32Array, n: number): Promise<PolicyOutput> {
    const input = new this.ort.Tensor("float32", obs, [n, this.obsDim]);
    const out = await this.session.run({ observation: input }, this.hasAction ? ["q_values", "action"] : ["q_values"]);
    const q = Float32Array.from(out.q_values!.data as Float32Array);
    let actions: Int32Array;
    if (this.hasAction) {
      const a = out.action!.data as BigInt64Array | Int32Array;
      actions = new Int32Array(n);
      for (let i = 0; i < n; i++) actions[i] = Number(a[i]);
    } else {
      actions = argmaxRows(q, n, this.numActions);
    }
    for (const t of Object.values(out)) t.dispose();
    input.dispose();
    return { q, actions };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
