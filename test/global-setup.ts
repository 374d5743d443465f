// CLI tests run the compiled `qttdm` binary as a user does, so the suite builds dist/ once first.
// Type errors are reported by `npm run typecheck`; here only the emitted JavaScript matters.
import { spawnSync } from "node:child_process";

export default function setup(): void {
  const tsc = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { encoding: "utf8" });
  if (tsc.status !== 0) process.stderr.write(`global setup: tsc reported problems (see npm run typecheck):\n${tsc.stdout.slice(0, 2000)}`);
  const copy = spawnSync(process.execPath, ["scripts/copy-assets.mjs"], { encoding: "utf8" });
  if (copy.status !== 0) throw new Error(`copying assets failed: ${copy.stderr}`);
}
