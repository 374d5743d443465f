// Runs the compiled `qttdm` binary the way a user does (test/global-setup.ts builds dist/ first).
import { spawnSync } from "node:child_process";

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export const CLI = `${process.cwd()}/dist/cli/main.js`;

export function qttdm(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? process.cwd(),
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 150_000,
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
