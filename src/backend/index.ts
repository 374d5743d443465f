/**
 * Choice of the tfjs backend and tensor-memory checks.
 *
 * Backends, fastest first:
 * - `tensorflow`: libtensorflow through `@tensorflow/tfjs-node-gpu` (when installed and a GPU is present) or
 *   `@tensorflow/tfjs-node`. Both are optional: they are not in package.json because their install downloads
 *   libtensorflow; install one with `npm install @tensorflow/tfjs-node` (or `@tensorflow/tfjs-node-gpu`,
 *   CUDA required). They are loaded by dynamic import, so `npm ci` never needs them.
 * - `libtorch`: PyTorch's C++ library through qttdm's own Node-API addon (`native/`, built by
 *   `npm run build:native`; `./libtorch/`). Optional like the native packages: `npm ci` never builds it.
 *   `threads` sets torch's intra-op threads; `device: cuda` puts tensors on the GPU where the linked libtorch has
 *   CUDA (untested here: Debian's libtorch is CPU-only).
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
import { loadAddon } from "./libtorch/addon.js";
import { registerLibtorch } from "./libtorch/backend.js";
import { installWasmKernels } from "./wasm-matmul.js";

/** What the user may ask for. `auto` picks the fastest available (see module doc). */
export const BACKEND_CHOICES = ["auto", "tensorflow", "libtorch", "wasm", "cpu"] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
export const DEVICE_CHOICES = ["auto", "cpu", "cuda"] as const;
export type DeviceChoice = (typeof DEVICE_CHOICES)[number];

/** The compute keys of the `experiment` section, declared here beside the code that reads them. */
export const backendConfigShape = {
  backend: z.enum(BACKEND_CHOICES).default("auto")
    .describe("tfjs backend: auto picks tfjs-node-gpu, then tfjs-node, then libtorch (when built: npm run build:native), then wasm, then cpu."),
  threads: z.number().int().min(1).max(256).default(1)
    .describe("Compute threads of the libtorch backend (torch's intra-op threads); wasm and cpu always use one."),
  device: z.enum(DEVICE_CHOICES).default("auto")
    .describe("libtorch only: cpu, cuda (needs a libtorch built with CUDA; untested in qttdm's CI) or auto (cuda when available)."),
};

/** How a backend is set up besides its name. */
export interface BackendOptions {
  threads?: number;
  device?: DeviceChoice;
}

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
  /** Compute threads the backend uses (1 for wasm and cpu; libtorch: torch's intra-op threads; tensorflow: its own pool, reported as 0). */
  threads: number;
  /** libtorch only: where tensors live (`cpu` or `cuda`); null for other backends. */
  device: "cpu" | "cuda" | null;
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
    installWasmKernels();
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `wasm backend failed: ${(e as Error).message}` };
  }
}

async function useLibtorch(opts: BackendOptions): Promise<{ ok: true; device: "cpu" | "cuda" } | { ok: false; reason: string }> {
  const r = loadAddon();
  if ("reason" in r) return { ok: false, reason: r.reason };
  registerLibtorch(r.addon);
  const cuda = opts.device === "cuda" || (opts.device === "auto" && r.addon.info().cuda);
  try {
    r.addon.configure(opts.threads ?? 1, cuda ? 1 : 0);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  if (!(await tf.setBackend("libtorch"))) return { ok: false, reason: "libtorch backend failed to initialise" };
  return { ok: true, device: cuda ? "cuda" : "cpu" };
}

function describe(requested: BackendChoice, nativePackage: string | null, notes: string[], device: "cpu" | "cuda" | null = null): BackendInfo {
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
  } else if (name === "libtorch") {
    const r = loadAddon();
    if ("addon" in r) {
      const info = r.addon.info();
      threads = info.threads;
      versions.libtorch = info.version;
    }
  }
  return { name, requested, nativePackage, gpu: nativePackage === "@tensorflow/tfjs-node-gpu" || device === "cuda", simd, threads, device, versions, notes };
}

/**
 * The backend a process is forced onto by the environment variable `QTTDM_BACKEND` (e.g. to run the whole
 * test suite on libtorch), or null. It replaces every choice, including explicit ones.
 */
export function forcedBackend(): BackendChoice | null {
  const v = process.env.QTTDM_BACKEND;
  if (v === undefined || v === "") return null;
  if (!(BACKEND_CHOICES as readonly string[]).includes(v)) {
    throw new ConfigError(`QTTDM_BACKEND: got ${show(v)}, expected one of ${BACKEND_CHOICES.join(", ")}`);
  }
  return v as BackendChoice;
}

/**
 * Select and initialise the tfjs backend. Idempotent for the same choice.
 * @param choice `auto` tries tfjs-node-gpu (only when a GPU device node exists), tfjs-node, libtorch, wasm, cpu
 *   in order. `QTTDM_BACKEND` overrides it (see forcedBackend).
 * @param opts libtorch's threads and device (ignored by the other backends)
 * @throws ConfigError for an unknown choice; QttdmError when an explicitly requested backend is unavailable,
 *   with the install command.
 */
export async function selectBackend(choice: BackendChoice = "auto", opts: BackendOptions = {}): Promise<BackendInfo> {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new ConfigError(`backend: got ${show(choice)}, expected one of ${BACKEND_CHOICES.join(", ")}`);
  }
  choice = forcedBackend() ?? choice;
  const device = opts.device ?? "auto";
  if (!DEVICE_CHOICES.includes(device)) throw new ConfigError(`device: got ${show(device)}, expected one of ${DEVICE_CHOICES.join(", ")}`);
  if (current && current.requested === choice && tf.getBackend() === current.name && (current.name !== "libtorch" || current.threads === (opts.threads ?? 1))) {
    return current;
  }
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
          'or choose backend "libtorch", "wasm" or "cpu".',
      );
    }
  }
  if (choice === "libtorch" || choice === "auto") {
    const r = await useLibtorch({ ...opts, device });
    if (r.ok) return (current = describe(choice, null, notes, r.device));
    notes.push(r.reason);
    if (choice === "libtorch") throw new QttdmError(`backend "libtorch" is unavailable: ${r.reason}; or choose backend "wasm" or "cpu".`);
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
  const extra =
    info.name === "wasm"
      ? ` (${info.simd ? "simd" : "no simd"}, ${info.threads} thread)`
      : info.name === "libtorch"
        ? ` ${info.versions.libtorch} (${info.device}, ${info.threads} thread${info.threads === 1 ? "" : "s"})`
        : info.gpu
          ? " (gpu)"
          : "";
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
