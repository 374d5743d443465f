/**
 * `qttdm export`: a checkpoint's greedy policy as an ONNX model (float32 or dynamic int8) or a tfjs-layers
 * LayersModel directory, and the checks that go with it (int8 vs float32 action agreement on replay states).
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ConfigError, QttdmError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { makeEnv } from "../envs/index.js";
import { ReplayBuffer } from "../replay/buffer.js";
import { loadCheckpoint } from "../train/checkpoint.js";
import { runRootOf } from "../train/run-dir.js";
import { onnxModel, onnxRunner } from "./onnx.js";
import { greedyPolicy, type GreedyPolicy } from "./policy.js";

export { greedyPolicy, type GreedyPolicy, type PolicyLayer } from "./policy.js";
export { policyQValues } from "./forward.js";
export { onnxModel, onnxRunner, decodeOnnxModel, onnxMetadata, ONNX_OPSET, ONNX_IR_VERSION, type OnnxPolicyRunner } from "./onnx.js";
export { quantizeColumns, quantizationPlan, type QuantizationPlan } from "./quantize.js";
export { tfjsArtifacts, tfjsModel, writeTfjs, tfjsFileHandler, TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE } from "./tfjs.js";

export const EXPORT_FORMATS = ["onnx", "tfjs"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Observations to compare policies on: from the checkpoint's replay snapshot, else from random-action episodes. */
export interface ReferenceStates {
  obs: Float32Array;
  n: number;
  /** Where they came from, for the printed report. */
  source: string;
}

/**
 * n observations drawn uniformly (with replacement) from the checkpoint's replay snapshot (`replay.bin`); a
 * checkpoint saved without one gets the observations of random-action episodes of its env instead (seeds
 * `seed`, `seed + 1`, …), and says so in `source`.
 */
export async function replayStates(checkpoint: string, n: number, seed: number, policy?: GreedyPolicy): Promise<ReferenceStates> {
  const ckpt = loadCheckpoint(checkpoint);
  if (ckpt.replayPath && existsSync(ckpt.replayPath)) {
    const buf = await ReplayBuffer.load(ckpt.replayPath);
    if (buf.size > 0) {
      const obs = buf.sampleObservations(n, new Rng(seed));
      return { obs, n, source: `${n} states drawn uniformly from ${ckpt.replayPath} (${buf.size} stored transitions)` };
    }
  }
  const p = policy ?? (await greedyPolicy(checkpoint));
  const env = await makeEnv(p.config.env.id, p.config.env.options);
  const rng = new Rng(seed);
  const obs = new Float32Array(n * p.obsDim);
  try {
    let episode = 0;
    let o = env.reset({ seed: seed + episode }).observation;
    for (let i = 0; i < n; i++) {
      obs.set(o, i * p.obsDim);
      const r = env.step(rng.integers(0, p.actions));
      o = r.observation;
      if (r.terminated || r.truncated) o = env.reset({ seed: seed + ++episode }).observation;
    }
    return { obs, n, source: `${n} states of ${episode + 1} random-action episodes of ${p.env} (the checkpoint has no replay snapshot)` };
  } finally {
    env.close();
  }
}

export interface AgreementResult {
  states: number;
  /** Fraction of states where both models choose the same greedy action. */
  agreement: number;
  /** Mean and largest |Q_int8 − Q_fp32| over all states and actions. */
  meanAbsQError: number;
  maxAbsQError: number;
}

/**
 * Greedy-action agreement of two ONNX policies (float32 and int8) on n observations. The int8 model quantises
 * its inputs per call, so it is run one state per call, as when acting; the float32 model in one batch.
 */
export async function agreement(fp32: Uint8Array, int8: Uint8Array, obsDim: number, obs: Float32Array, n: number): Promise<AgreementResult> {
  const a = await onnxRunner(fp32, obsDim);
  const b = await onnxRunner(int8, obsDim);
  try {
    const ref = await a.run(obs, n);
    const actions = ref.actions.length ? ref.q.length / ref.actions.length : 0;
    let same = 0;
    let sumErr = 0;
    let maxErr = 0;
    for (let i = 0; i < n; i++) {
      const r = await b.run(obs.subarray(i * obsDim, (i + 1) * obsDim), 1);
      if (r.actions[0] === ref.actions[i]) same++;
      for (let j = 0; j < actions; j++) {
        const e = Math.abs(r.q[j]! - ref.q[i * actions + j]!);
        sumErr += e;
        maxErr = Math.max(maxErr, e);
      }
    }
    return { states: n, agreement: same / n, meanAbsQError: sumErr / (n * actions), maxAbsQError: maxErr };
  } finally {
    await a.release();
    await b.release();
  }
}

/**
 * Greedy episodes of an ONNX policy (the model's `action` output, one observation per call) on seeds
 * `seed`, `seed + 1`, …: returns and lengths.
 */
export async function evaluateOnnx(bytes: Uint8Array, envId: string, episodes: number, seed: number, envOptions: Record<string, unknown> = {}): Promise<{ returns: number[]; lengths: number[] }> {
  const env = await makeEnv(envId, envOptions);
  const obsDim = env.observationSpace.shape.reduce((a, b) => a * b, 1);
  const runner = await onnxRunner(bytes, obsDim);
  const returns: number[] = [];
  const lengths: number[] = [];
  try {
    for (let e = 0; e < episodes; e++) {
      let obs = env.reset({ seed: seed + e }).observation;
      let total = 0;
      let length = 0;
      for (;;) {
        const { actions } = await runner.run(obs, 1);
        const r = env.step(actions[0]!);
        total += r.reward;
        length++;
        obs = r.observation;
        if (r.terminated || r.truncated) break;
      }
      returns.push(total);
      lengths.push(length);
    }
    return { returns, lengths };
  } finally {
    await runner.release();
    env.close();
  }
}

export interface ExportOptions {
  checkpoint: string;
  format?: ExportFormat;
  int8?: boolean;
  /** Default: `<run>/policy.onnx` (`<run>/policy-int8.onnx` with int8) or `<run>/policy-tfjs/`. */
  out?: string;
  /** States for the int8 agreement check (default 10,000). */
  agreementStates?: number;
  /** int8: dense layers kept in float32 ("first": the one reading observations, "last": the one writing Q-values). */
  keepFloat?: readonly ("first" | "last")[];
  print?: (line: string) => void;
}

export interface ExportResult {
  format: ExportFormat;
  path: string;
  /** Bytes written (all files of a tfjs directory). */
  bytes: number;
  policy: GreedyPolicy;
  /** int8 only: the float32 model's size and the agreement of their greedy actions. */
  fp32Bytes?: number;
  agreement?: AgreementResult & { source: string };
}

/** Observations the int8 rounding is calibrated on. */
export const CALIBRATION_STATES = 4096;
/** SmoothQuant α for the int8 layers with hidden inputs. */
export const INT8_SMOOTHING = 0.5;

/** Which dense products (in graph order) to quantise when `keep` names the first and/or last to keep in float32. */
export function keepFloatPredicate(policy: GreedyPolicy, keep: readonly ("first" | "last")[]): (index: number) => boolean {
  const count = policy.layers.filter((l) => l.kind !== "layerNorm").length;
  return (index) => !((keep.includes("first") && index === 0) || (keep.includes("last") && index === count - 1));
}

/**
 * The int8 ONNX model of a checkpoint's greedy policy as `qttdm export --int8` writes it (and `qttdm serve
 * --checkpoint RUN --int8` serves it), calibrated on replay states of a draw of their own (seed 1), apart from the
 * agreement check's (seed 0).
 */
export async function int8OnnxModel(checkpoint: string, policy: GreedyPolicy, keepFloat: readonly ("first" | "last")[] = []): Promise<Uint8Array> {
  const cal = await replayStates(checkpoint, CALIBRATION_STATES, 1, policy);
  return onnxModel(policy, { int8: true, calibration: cal, smooth: INT8_SMOOTHING, quantize: keepFloatPredicate(policy, keepFloat) });
}

const kb = (b: number) => `${(b / 1024).toFixed(1)} KiB`;

/** Writes the export and prints what was written (and, for int8, the agreement with float32). */
export async function exportPolicy(opts: ExportOptions): Promise<ExportResult> {
  const format = opts.format ?? "onnx";
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new ConfigError(`--format ${JSON.stringify(format)}: expected one of ${EXPORT_FORMATS.join(", ")}`);
  }
  if (opts.int8 && format !== "onnx") throw new ConfigError(`--int8 applies to --format onnx only (tfjs-layers models hold float32 weights)`);
  if (!existsSync(opts.checkpoint)) throw new QttdmError(`export: checkpoint ${opts.checkpoint} does not exist (expected a run directory, its checkpoints/ or one checkpoint)`);
  const print = opts.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  const policy = await greedyPolicy(opts.checkpoint);
  const run = runRootOf(opts.checkpoint);
  const describe = `${policy.env} policy (${policy.obsDim} observations → ${policy.actions} actions) from ${policy.source}, checkpoint ${policy.checkpoint}`;

  if (format === "tfjs") {
    const { writeTfjs } = await import("./tfjs.js");
    const out = opts.out ?? join(run, "policy-tfjs");
    const files = await writeTfjs(policy, out);
    const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
    print(`tfjs-layers model of the ${describe}`);
    print(`written to ${out}/ (${files.length} files, ${kb(bytes)})${policy.preprocess === "symlog" ? "; apply symlog(x) = sign(x)·log(1 + |x|) to observations before the model (userDefinedMetadata.preprocess)" : ""}`);
    return { format, path: out, bytes, policy };
  }

  const out = opts.out ?? join(run, opts.int8 ? "policy-int8.onnx" : "policy.onnx");
  const fp32 = onnxModel(policy);
  let model = fp32;
  if (opts.int8) model = await int8OnnxModel(opts.checkpoint, policy, opts.keepFloat);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, model);
  const kept = opts.int8 && opts.keepFloat?.length ? `; ${opts.keepFloat.join(" and ")} dense layer${opts.keepFloat.length > 1 ? "s" : ""} kept float32` : "";
  print(`ONNX model (opset 17, ${opts.int8 ? `int8 dense weights (hidden layers: int8 products with dynamic activation quantisation; first and output layers: two int8 planes), calibrated on ${CALIBRATION_STATES} replay states${kept}` : "float32"}) of the ${describe}`);
  print(`written to ${out}: ${kb(model.length)}${opts.int8 ? ` (float32: ${kb(fp32.length)}, ${((100 * model.length) / fp32.length).toFixed(1)}%)` : ""}`);
  if (!opts.int8) return { format, path: out, bytes: model.length, policy };

  const n = opts.agreementStates ?? 10_000;
  const states = await replayStates(opts.checkpoint, n, 0, policy);
  const a = await agreement(fp32, model, policy.obsDim, states.obs, n);
  print(
    `int8 vs float32 greedy actions: ${(100 * a.agreement).toFixed(2)}% agree on ${states.source}; ` +
      `|ΔQ| mean ${a.meanAbsQError.toPrecision(3)}, max ${a.maxAbsQError.toPrecision(3)}`,
  );
  return { format, path: out, bytes: model.length, policy, fp32Bytes: fp32.length, agreement: { ...a, source: states.source } };
}
