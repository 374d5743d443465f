/**
 * Loads box2d-wasm (Box2D 2.4.1 compiled with Emscripten) once per process.
 *
 * The package's own loader fetches the `.wasm` by URL, which fails under Node >= 18 (`fetch` of a
 * file path), so we read the bytes ourselves and hand them over as `wasmBinary`. The plain (non-SIMD)
 * build is used: it is the one whose trajectories are checked against Gymnasium.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type Box2DFactory from "box2d-wasm";

export type Box2DModule = Awaited<ReturnType<typeof Box2DFactory>>;

let cached: Promise<Box2DModule> | undefined;

export function loadBox2D(): Promise<Box2DModule> {
  if (!cached) {
    cached = (async () => {
      const require = createRequire(import.meta.url);
      const scriptPath = require.resolve("box2d-wasm/dist/umd/Box2D.js");
      const factory = require(scriptPath) as typeof Box2DFactory;
      const bytes = readFileSync(scriptPath.replace(/\.js$/, ".wasm"));
      const wasmBinary = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      // Emscripten's Node glue installs process-wide rethrowing handlers; a library must not.
      const emitter = process as unknown as NodeJS.EventEmitter;
      const events = ["uncaughtException", "unhandledRejection"];
      const before = new Map(events.map((e) => [e, new Set(emitter.listeners(e))]));
      try {
        return await factory({ wasmBinary });
      } finally {
        for (const e of events) {
          for (const l of emitter.listeners(e)) if (!before.get(e)!.has(l)) emitter.removeListener(e, l as (...args: unknown[]) => void);
        }
      }
    })();
    // A failed load must not poison the cache for good (e.g. a transient read error).
    cached.catch(() => {
      cached = undefined;
    });
  }
  return cached;
}

export interface WasmHeapProbe {
  /** Size of the module's linear memory (grows, never shrinks). */
  memoryBytes: number;
  /** Address a fresh 1 MiB block gets: it climbs when allocations leak, even before memory grows. */
  topAddress: number;
}

/** Measures the wasm heap of the Box2D module, for leak checks across resets. */
export function wasmHeapProbe(B: Box2DModule): WasmHeapProbe {
  const p = B._malloc(1 << 20);
  B._free(p);
  return { memoryBytes: B.HEAPU8.length, topAddress: p };
}
