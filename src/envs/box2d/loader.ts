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
      const before = {
        uncaughtException: new Set(process.listeners("uncaughtException")),
        unhandledRejection: new Set(process.listeners("unhandledRejection")),
      };
      try {
        return await factory({ wasmBinary });
      } finally {
        for (const event of ["uncaughtException", "unhandledRejection"] as const) {
          for (const l of process.listeners(event)) if (!before[event].has(l)) process.removeListener(event, l);
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
