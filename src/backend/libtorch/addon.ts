/**
 * Loading the libtorch Node-API addon (`native/`, built by `npm run build:native`).
 *
 * The addon is optional: `npm ci` never builds it, and everything else works without it. Its calling
 * convention (shared argument buffers, slot numbers, dtype codes) is described at the top of
 * `native/src/addon.cc`.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** The functions the addon exports. */
export interface LibtorchAddon {
  init(ints: Int32Array, nums: Float64Array): void;
  /** Kernel names the build implements, indexed by op code. */
  opNames(): string[];
  /** Runs op code `op` on the arguments in the shared buffers; the outputs are described there on return. */
  exec(op: number): void;
  /** Uploads `values` (shape in the shared int buffer: rank, dims) as dtype code 0/1/2; returns the slot. */
  upload(values: Float32Array | Int32Array | Uint8Array, dtype: number): number;
  download(slot: number, out: Float32Array | Int32Array | Uint8Array): void;
  release(slot: number): void;
  /** [live tensors, bytes they hold]. */
  memory(): [number, number];
  /** Intra-op threads (≥ 1) and device (0 cpu, 1 cuda). */
  configure(threads: number, device: number): void;
  info(): { version: string; cuda: boolean; threads: number; config: string };
}

/** Where `npm run build:native` puts the addon; the same relative path from src/ and dist/. */
export const ADDON_PATH = fileURLToPath(new URL("../../../native/build/Release/qttdm_libtorch.node", import.meta.url));

/** The command that builds the addon, for error messages. */
export const BUILD_HINT =
  "apt-get install -y libtorch-dev libopenblas0-pthread g++ (Debian), then npm run build:native";

let loaded: LibtorchAddon | null = null;

/**
 * Load the addon once.
 * @returns the addon, or the reason it is unavailable (not built, or libtorch's libraries missing at run time)
 */
export function loadAddon(): { addon: LibtorchAddon } | { reason: string } {
  if (loaded) return { addon: loaded };
  if (!existsSync(ADDON_PATH)) return { reason: `the libtorch addon is not built (${BUILD_HINT})` };
  try {
    loaded = createRequire(import.meta.url)(ADDON_PATH) as LibtorchAddon;
    return { addon: loaded };
  } catch (e) {
    return { reason: `the libtorch addon failed to load: ${(e as Error).message.split("\n")[0]}` };
  }
}
