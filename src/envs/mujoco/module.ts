/**
 * Loads MuJoCo's official WebAssembly build (@mujoco/mujoco, single-threaded) once per process,
 * and compiles the project's MJCF models with it.
 *
 * The package's Emscripten loader detects Node and reads `mujoco.wasm` next to `mujoco.js` with
 * `fs` (it resolves the file from its own `import.meta.url`), so no wasm bytes need to be passed in.
 * The multi-threaded build (`@mujoco/mujoco/mt`) is not used: it needs SharedArrayBuffer workers
 * and gains nothing for models of this size.
 */
import { readFileSync } from "node:fs";
import loadMujocoFactory from "@mujoco/mujoco";
import type { MainModule, MjModel } from "@mujoco/mujoco";
import { EnvError } from "../../core/errors.js";

export type MujocoModule = MainModule;

let cached: Promise<MujocoModule> | undefined;

export function loadMujoco(): Promise<MujocoModule> {
  if (!cached) {
    cached = loadMujocoFactory();
    // A failed load must not poison the cache for good (e.g. a transient read error).
    cached.catch(() => {
      cached = undefined;
    });
  }
  return cached;
}

/** Found relative to this module, so it works from both `src/` (vitest) and `dist/` (copied by scripts/copy-assets.mjs). */
export const ASSETS_URL = new URL("./assets/", import.meta.url);

/** Folder in the module's in-memory file system where models are written before compiling. */
const MEMFS_DIR = "/qttdm-mjcf";

/** Compiles an MJCF document: written into MEMFS (so relative includes would resolve), compiled, then removed. */
export function compileXml(mj: MujocoModule, xml: string, name: string): MjModel {
  if (!mj.FS.analyzePath(MEMFS_DIR, false).exists) mj.FS.mkdir(MEMFS_DIR);
  const path = `${MEMFS_DIR}/${name}`;
  mj.FS.writeFile(path, xml);
  try {
    return mj.MjModel.from_xml_path(path);
  } catch (e) {
    throw new EnvError(`MuJoCo could not compile the model ${JSON.stringify(name)}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    mj.FS.unlink(path);
  }
}

const xmlCache = new Map<string, string>();

/** Reads one of the project's MJCF files (`src/envs/mujoco/assets/<file>`), cached per process. */
export function readAsset(file: string): string {
  let xml = xmlCache.get(file);
  if (xml === undefined) {
    const url = new URL(file, ASSETS_URL);
    try {
      xml = readFileSync(url, "utf8");
    } catch (e) {
      throw new EnvError(`MuJoCo model file ${JSON.stringify(file)} not found at ${url.pathname} (${(e as Error).message}); was dist/ built with scripts/copy-assets.mjs?`);
    }
    xmlCache.set(file, xml);
  }
  return xml;
}

export function compileAsset(mj: MujocoModule, file: string): MjModel {
  return compileXml(mj, readAsset(file), file);
}

/**
 * Heap figures for leak checks: the wasm memory size, and where a fresh 1 MiB block lands (a
 * leak pushes fresh allocations upward long before the memory has to grow). The module exports no
 * `_malloc`, so the block is one of the bindings' own DoubleBuffers.
 */
export function mujocoHeapProbe(mj: MujocoModule): { memoryBytes: number; topAddress: number } {
  const block = new mj.DoubleBuffer(1 << 17);
  try {
    return { memoryBytes: (block.GetView() as Float64Array).buffer.byteLength, topAddress: block.GetPointer() };
  } finally {
    block.delete();
  }
}
