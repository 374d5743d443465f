import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileFormatError } from "../../src/core/errors.js";
import { resolveCheckpointDir } from "../../src/train/checkpoint.js";

/** A run directory laid out as the trainer writes it: two checkpoints, `latest` naming the older one. */
function runDir(): string {
  const run = mkdtempSync(join(tmpdir(), "qttdm-ckpt-path-"));
  for (const step of ["step-000001000", "step-000002000"]) {
    mkdirSync(join(run, "checkpoints", step), { recursive: true });
    writeFileSync(join(run, "checkpoints", step, "trainer.json"), "{}");
  }
  writeFileSync(join(run, "checkpoints", "latest"), "step-000001000\n");
  return run;
}

describe("resolveCheckpointDir", () => {
  it("accepts the run directory, its checkpoints directory, the latest pointer and a checkpoint directory", () => {
    const run = runDir();
    const latest = join(run, "checkpoints", "step-000001000");
    expect(resolveCheckpointDir(run)).toBe(latest);
    expect(resolveCheckpointDir(join(run, "checkpoints"))).toBe(latest);
    expect(resolveCheckpointDir(join(run, "checkpoints", "latest"))).toBe(latest);
    const other = join(run, "checkpoints", "step-000002000");
    expect(resolveCheckpointDir(other)).toBe(other);
  });

  it("names the path and what was expected for a missing path or another file", () => {
    const run = runDir();
    expect(() => resolveCheckpointDir(join(run, "nope"))).toThrow(/checkpoint not found: .*nope/);
    const file = join(run, "checkpoints", "step-000001000", "trainer.json");
    expect(() => resolveCheckpointDir(file)).toThrow(FileFormatError);
    expect(() => resolveCheckpointDir(file)).toThrow(/trainer\.json: is a file; expected a run directory/);
  });
});
