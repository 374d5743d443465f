/**
 * Child processes of the side-by-side benchmarks (`learner`, `train`). Each backend is measured in a fresh
 * process, so that one backend's allocations, JIT state and thread pools cannot slow the next, and with one
 * compute thread, so that the figures compare kernels rather than core counts.
 */
import { fork, type ChildProcess, type ForkOptions } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { BACKEND_CHOICES } from "../backend/index.js";
import { loadAddon } from "../backend/libtorch/addon.js";
import { ConfigError, QttdmError, show } from "../core/errors.js";
import type { BenchContext } from "./types.js";

/** Thread counts of the OpenBLAS, OpenMP and MKL pools: torch.set_num_threads does not limit OpenBLAS's own pool. */
export function threadEnv(threads: number): Record<string, string> {
  const n = String(threads);
  return { OPENBLAS_NUM_THREADS: n, OMP_NUM_THREADS: n, MKL_NUM_THREADS: n };
}

/** A compiled module of this package; the same relative path works from src/ (tests) and from dist/. */
export function distModule(rel: string): string {
  return fileURLToPath(new URL(`../../dist/${rel}`, import.meta.url));
}

/**
 * The backends to measure: `--backends a,b` or `--backend a` when given, else wasm, and libtorch when its addon
 * loads here (those a CPU-only install can have).
 */
export function benchBackends(ctx: BenchContext): string[] {
  const named = ctx.options.backends !== undefined ? String(ctx.options.backends).split(",").map((s) => s.trim()).filter(Boolean)
    : ctx.options.backend !== undefined ? [String(ctx.options.backend)]
      : null;
  if (named) {
    for (const b of named) {
      if (!(BACKEND_CHOICES as readonly string[]).includes(b)) throw new ConfigError(`backend: got ${show(b)}, expected one of ${BACKEND_CHOICES.join(", ")}`);
    }
    return named;
  }
  const addon = loadAddon();
  if ("reason" in addon) {
    ctx.log(`skipping libtorch: ${addon.reason}`);
    return ["wasm"];
  }
  return ["wasm", "libtorch"];
}

/**
 * Forks a node module with an IPC channel and without the parent's node flags (a debugger port or a test runner's
 * loader would clash); each line it prints, on stdout or stderr, goes to `onLine`.
 */
export function forkLogged(module: string, args: string[], onLine: (line: string) => void, opts: Pick<ForkOptions, "env" | "detached"> = {}): ChildProcess {
  const child = fork(module, args, { ...opts, execArgv: [], stdio: ["ignore", "pipe", "pipe", "ipc"] });
  for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on("line", onLine);
  return child;
}

/**
 * Runs a node module in a child process with one compute thread, forwarding its output lines to `log`.
 * `QTTDM_BACKEND` is dropped from its environment, since it would override the backend the benchmark names, and
 * so are the parent's node flags (a debugger port or a test runner's loader would clash).
 * @returns the last message the child sent over IPC (undefined if none)
 * @throws when the child exits with an error (its output has gone to `log`)
 */
export function runChild(module: string, args: string[], log: (line: string) => void): Promise<unknown> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...threadEnv(1), FORCE_COLOR: "0" };
  delete env.QTTDM_BACKEND;
  const child = forkLogged(module, args, log, { env });
  let message: unknown;
  child.on("message", (m) => (message = m));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => {
      if (code === 0) resolve(message);
      else reject(new QttdmError(`${module} ${args.join(" ")} exited with ${signal ?? `code ${code}`} (its output is above)`));
    });
  });
}
