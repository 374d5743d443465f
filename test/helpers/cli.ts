// Runs the compiled `qttdm` binary the way a user does; builds dist/ once per test process.
import { execFileSync, spawnSync } from "node:child_process";

let built = false;

export function buildOnce(): void {
  if (built) return;
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
  execFileSync(process.execPath, ["scripts/copy-assets.mjs"], { stdio: "inherit" });
  built = true;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function qttdm(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): CliResult {
  buildOnce();
  const r = spawnSync(process.execPath, [`${process.cwd()}/dist/cli/main.js`, ...args], {
    cwd: opts.cwd ?? process.cwd(),
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 60_000,
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
