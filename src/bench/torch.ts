/**
 * The PyTorch CPU reference of `bench learner` (`shared/bench/torch_reference.py`, run by `/usr/bin/python3`)
 * and the check of which BLAS it runs on.
 *
 * Debian's torch is built with BLAS_INFO=generic: its matrix products go to whichever `libblas.so.3`
 * alternative is installed, and the reference BLAS is about ten times slower than OpenBLAS. A ratio against
 * torch on the reference BLAS would flatter us, so the BLAS is read from the libraries the python process
 * actually mapped (`/proc/self/maps`) and reported with the figures.
 */
import { spawnSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { threadEnv } from "./child.js";

const PYTHON = "/usr/bin/python3";

/** What the python probe found. */
export interface TorchProbe {
  version: string;
  /** `BLAS_INFO` of torch's build config (`generic`, `mkl`, `open`, …). */
  blasInfo: string;
  /** Real paths of the BLAS libraries the process mapped. */
  mapped: string[];
  /** `reference`, `openblas-pthread`, `openblas-openmp`, `openblas-serial`, `openblas`, `mkl`, … or `unknown`. */
  blas: string;
}

/** The reference's figures: W1 updates/s, W2 latency percentiles in µs by batch size, W3 steps/s. */
export interface TorchFigures {
  version: string;
  threads: number;
  blas: string;
  w1?: number;
  w2: Record<number, { p50: number; p99: number }>;
  w3?: number;
  w3sdpa?: number;
}

/** Real paths of the `libblas*` / `libopenblas*` files mapped in a `/proc/<pid>/maps` text, in order of appearance. */
export function parseBlasMaps(maps: string): string[] {
  const found = new Set<string>();
  for (const line of maps.split("\n")) {
    // address perms offset dev inode pathname; the path may contain spaces.
    const file = line.trim().split(/\s+/).slice(5).join(" ");
    if (!/\/lib(open)?blas[^/]*$/.test(file)) continue;
    let real = file;
    try {
      real = realpathSync(file);
    } catch {
      // Maps of another machine (tests) or a library deleted since: the kernel's path is the best there is.
    }
    found.add(real);
  }
  return [...found];
}

/**
 * Names the BLAS from the mapped libraries (Debian's alternatives live in `…/blas/` for the reference BLAS and
 * `…/openblas-<threading>/` for OpenBLAS), falling back on torch's BLAS_INFO when it linked one itself (pip wheels: mkl).
 */
export function classifyBlas(mapped: string[], blasInfo: string): string {
  if (mapped.some((p) => /\/blas\/libblas\.so/.test(p))) return "reference";
  for (const p of mapped) {
    const m = /\/(openblas-[a-z]+)\//.exec(p);
    if (m) return m[1]!;
  }
  if (mapped.some((p) => /libopenblas/.test(p))) return "openblas";
  return blasInfo && blasInfo !== "generic" ? blasInfo : "unknown";
}

/** Imports torch, runs one matrix product and reports its version, build config and mapped BLAS. */
const PROBE = `
import json, torch
a = torch.ones(64, 64)
(a @ a).sum().item()
print(json.dumps({"version": torch.__version__, "config": torch.__config__.show(), "maps": open("/proc/self/maps").read()}))
`;

/** Probes `/usr/bin/python3`'s torch with `threads` BLAS/OpenMP threads; the reason when there is none to compare with. */
export function probeTorch(threads: number): TorchProbe | { reason: string } {
  if (!existsSync(PYTHON)) return { reason: `${PYTHON} not found` };
  const r = spawnSync(PYTHON, ["-c", PROBE], { encoding: "utf8", env: { ...process.env, ...threadEnv(threads) }, timeout: 120_000 });
  if (r.status !== 0) return { reason: `torch not importable by ${PYTHON} (apt-get install -y python3-torch to compare): ${r.stderr.trim().split("\n").pop()}` };
  const j = JSON.parse(r.stdout) as { version: string; config: string; maps: string };
  const blasInfo = /BLAS_INFO=([^,\s]+)/.exec(j.config)?.[1] ?? "unknown";
  const mapped = parseBlasMaps(j.maps);
  return { version: j.version, blasInfo, mapped, blas: classifyBlas(mapped, blasInfo) };
}

function referenceScript(): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // src/bench or dist/bench → repo root is two levels up; the shared folder sits next to the repo.
  for (const p of [path.resolve(here, "../../../shared/bench/torch_reference.py"), path.resolve(process.cwd(), "../shared/bench/torch_reference.py")]) {
    if (existsSync(p)) return p;
  }
  return null;
}

/** Runs the reference with `threads` threads (torch's and the BLAS pool's); null when the script is missing or fails. */
export function runTorchReference(log: (line: string) => void, probe: TorchProbe, threads: number, w1n: number, w3n: number): TorchFigures | null {
  const script = referenceScript();
  if (!script) {
    log("torch reference script shared/bench/torch_reference.py not found: reporting ours only");
    return null;
  }
  log(`running PyTorch reference ${script} (${threads} thread${threads === 1 ? "" : "s"})`);
  const env = { ...process.env, ...threadEnv(threads) };
  const r = spawnSync(PYTHON, [script, String(threads), String(w1n), String(w3n)], { encoding: "utf8", env, timeout: 600_000 });
  if (r.status !== 0) {
    log(`torch reference failed: ${r.stderr.slice(-500)}`);
    return null;
  }
  const f: TorchFigures = { version: probe.version, threads, blas: probe.blas, w2: {} };
  for (const line of r.stdout.split("\n")) {
    if (!line.trim()) continue;
    const j = JSON.parse(line) as Record<string, unknown>;
    if (j.torch) f.threads = j.threads as number;
    if (j.w === "W1") f.w1 = j.upd_per_s as number;
    if (j.w === "W2") f.w2[j.batch as number] = { p50: j.p50_us as number, p99: j.p99_us as number };
    if (j.w === "W3") f.w3 = j.steps_per_s as number;
    if (j.w === "W3-sdpa") f.w3sdpa = j.steps_per_s as number;
    log(`torch: ${line}`);
  }
  return f;
}
