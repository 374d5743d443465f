/**
 * Choice of the tfjs backend and tensor-memory checks.
 *
 * Backends, fastest first:
 * - `tensorflow`: libtensorflow through `@tensorflow/tfjs-node-gpu` (when installed and a GPU is present) or
 *   `@tensorflow/tfjs-node`. Both are optional: they are not in package.json because their install downloads
 *   libtensorflow; install one with `npm install @tensorflow/tfjs-node` (or `@tensorflow/tfjs-node-gpu`,
 *   CUDA required). They are loaded by dynamic import, so `npm ci` never needs them.
 * - `wasm`: `@tensorflow/tfjs-backend-wasm` with SIMD (XNNPACK kernels). Under Node 20 the .wasm binaries are
 *   loaded from node_modules by giving `setWasmPaths` the directory path; this works with tfjs-backend-wasm 4.22.
 *   The multi-threaded build is not usable under Node (tfjs reports no multithread support there; its pthread
 *   workers need a browser with cross-origin isolation), so the wasm backend is single-threaded.
 * - `cpu`: plain JavaScript kernels; slowest, but exact and always present (used by gradient-check tests).
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { z } from "zod";
import { ConfigError, QttdmError, show } from "../core/errors.js";

/** What the user may ask for. `auto` picks the fastest available (see module doc). */
export type BackendChoice = "auto" | "tensorflow" | "wasm" | "cpu";
export const BACKEND_CHOICES: readonly BackendChoice[] = ["auto", "tensorflow", "wasm", "cpu"];

export const backendConfigSchema = z
  .object({
    backend: z
      .enum(["auto", "tensorflow", "wasm", "cpu"])
      .default("auto")
      .describe("tfjs backend: auto (tfjs-node-gpu > tfjs-node > wasm > cpu), tensorflow, wasm or cpu"),
  })
  .strict();
export type BackendConfig = z.infer<typeof backendConfigSchema>;

/** Description of the active backend; the trainer logs it with each run. */
export interface BackendInfo {
  /** tfjs backend name as registered (`tensorflow`, `wasm`, `cpu`). */
  name: string;
  /** What was asked for. */
  requested: BackendChoice;
  /** Native package in use (`@tensorflow/tfjs-node` / `@tensorflow/tfjs-node-gpu`), or null. */
  nativePackage: string | null;
  /** True when the GPU build of libtensorflow is in use. */
  gpu: boolean;
  /** wasm only: SIMD kernels in use (null for other backends). */
  simd: boolean | null;
  /** Compute threads the backend uses (1 for wasm and cpu; native: libtensorflow's own pool, reported as 0). */
  threads: number;
  /** Package versions (tfjs-core, the backend package, node). */
  versions: Record<string, string>;
  /** Why `auto` fell back, if it did. */
  notes: string[];
}

const require_ = createRequire(import.meta.url);
let current: BackendInfo | null = null;

function packageVersion(name: string): string | null {
  try {
    const p = require_.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(p, "utf8")) as { version: string }).version;
  } catch {
    return null;
  }
}

/** Directory holding the tfjs-backend-wasm .wasm binaries, with trailing separator. */
function wasmDir(): string {
  return path.dirname(require_.resolve("@tensorflow/tfjs-backend-wasm/package.json")) + path.sep + "dist" + path.sep;
}

function gpuPresent(): boolean {
  return existsSync("/dev/nvidiactl") || existsSync("/dev/nvidia0");
}

async function tryNative(pkg: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (packageVersion(pkg) === null) return { ok: false, reason: `${pkg} is not installed` };
  try {
    // A variable specifier keeps TypeScript from resolving the optional package at build time.
    const spec: string = pkg;
    await import(spec);
  } catch (e) {
    return { ok: false, reason: `${pkg} failed to load: ${(e as Error).message.split("\n")[0]}` };
  }
  if (!(await tf.setBackend("tensorflow"))) return { ok: false, reason: `${pkg} loaded but backend "tensorflow" failed to initialise` };
  return { ok: true };
}

async function useWasm(): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    setWasmPaths(wasmDir());
    if (!(await tf.setBackend("wasm"))) return { ok: false, reason: "wasm backend failed to initialise" };
    await tf.ready();
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `wasm backend failed: ${(e as Error).message}` };
  }
}

function describe(requested: BackendChoice, nativePackage: string | null, notes: string[]): BackendInfo {
  const name = tf.getBackend();
  const versions: Record<string, string> = { "tfjs-core": tf.version_core, node: process.versions.node };
  let simd: boolean | null = null;
  let threads = 1;
  if (name === "wasm") {
    simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT");
    threads = tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT") ? 0 : 1;
    versions["tfjs-backend-wasm"] = packageVersion("@tensorflow/tfjs-backend-wasm") ?? "?";
    if (!simd) notes.push("wasm SIMD unavailable: using the slower scalar wasm build");
  } else if (name === "tensorflow" && nativePackage) {
    threads = 0;
    versions[nativePackage.replace("@tensorflow/", "")] = packageVersion(nativePackage) ?? "?";
  }
  return { name, requested, nativePackage, gpu: nativePackage === "@tensorflow/tfjs-node-gpu", simd, threads, versions, notes };
}

/**
 * Select and initialise the tfjs backend. Idempotent for the same choice.
 * @param choice `auto` tries tfjs-node-gpu (only when a GPU device node exists), tfjs-node, wasm, cpu in order.
 * @throws ConfigError for an unknown choice; QttdmError when an explicitly requested backend is unavailable,
 *   with the install command.
 */
export async function selectBackend(choice: BackendChoice = "auto"): Promise<BackendInfo> {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new ConfigError(`backend: got ${show(choice)}, expected one of ${BACKEND_CHOICES.join(", ")}`);
  }
  if (current && current.requested === choice && tf.getBackend() === current.name) return current;
  // Production mode: no debug checks, and no "install the node backend" console nagging on cpu.
  tf.enableProdMode();
  const notes: string[] = [];
  if (choice === "tensorflow" || choice === "auto") {
    const candidates = gpuPresent() ? ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] : ["@tensorflow/tfjs-node"];
    for (const pkg of candidates) {
      const r = await tryNative(pkg);
      if (r.ok) return (current = describe(choice, pkg, notes));
      notes.push(r.reason);
    }
    if (choice === "tensorflow") {
      throw new QttdmError(
        `backend "tensorflow" is unavailable (${notes.join("; ")}). Install it with ` +
          "`npm install @tensorflow/tfjs-node@4.22.0` (or `npm install @tensorflow/tfjs-node-gpu@4.22.0` with CUDA), " +
          'or choose backend "wasm" or "cpu".',
      );
    }
  }
  if (choice === "wasm" || choice === "auto") {
    const r = await useWasm();
    if (r.ok) return (current = describe(choice, null, notes));
    notes.push(r.reason);
    if (choice === "wasm") {
      throw new QttdmError(
        `backend "wasm" is unavailable (${r.reason}). Reinstall it with \`npm install @tensorflow/tfjs-backend-wasm@4.22.0\`, ` +
          'or choose backend "cpu".',
      );
    }
  }
  if (!(await tf.setBackend("cpu"))) throw new QttdmError('backend "cpu" failed to initialise');
  await tf.ready();
  return (current = describe(choice, null, notes));
}

/** The description returned by the last `selectBackend`, or null if none was selected yet. */
export function currentBackend(): BackendInfo | null {
  return current;
}

/** One-line summary for logs, e.g. `wasm (simd, 1 thread) tfjs-core 4.22.0`. */
export function formatBackend(info: BackendInfo): string {
  const extra = info.name === "wasm" ? ` (${info.simd ? "simd" : "no simd"}, ${info.threads} thread)` : info.gpu ? " (gpu)" : "";
  return `${info.name}${extra} tfjs-core ${info.versions["tfjs-core"]}`;
}

/** Number of live tensors (tfjs engine count). */
export function numTensors(): number {
  return tf.memory().numTensors;
}

/**
 * Run `fn` `warmup` times, then `repeats` times, and return how many tensors the timed repeats leaked in total.
 * Variables created by `fn` count as leaks too. Used by tests to check that a hot path is leak-free.
 */
export function countLeaked(fn: () => void, repeats = 10, warmup = 2): number {
  for (let i = 0; i < warmup; i++) fn();
  const before = numTensors();
  for (let i = 0; i < repeats; i++) fn();
  return numTensors() - before;
}
