import { describe, expect, it } from "vitest";
import { qttdm } from "../helpers/cli.js";

describe("qttdm CLI", () => {
  it("prints help listing every command", () => {
    const r = qttdm(["--help"]);
    expect(r.status).toBe(0);
    for (const cmd of ["train", "eval", "compare", "bench", "env"]) expect(r.stdout).toContain(`qttdm ${cmd}`);
  });

  it("has help with examples for each command", () => {
    for (const cmd of ["train", "eval", "compare", "bench", "env"]) {
      const r = qttdm([cmd, "--help"]);
      expect(r.status, `${cmd} --help`).toBe(0);
      expect(r.stdout, `${cmd} --help`).toContain("Examples:");
    }
  });

  it("rejects unknown commands and flags with a clear error and non-zero exit", () => {
    const a = qttdm(["trian"]);
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/Unknown argument: trian|Did you mean train/);
    const b = qttdm(["train", "--print-config", "--bogus-flag"]);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/Unknown arguments?: bogus-flag/);
    expect(b.stderr).not.toContain("    at ");
  });

  it("prints the resolved config with overrides", () => {
    const r = qttdm(["train", "--print-config", "--set", "experiment.seed=11"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("seed: 11");
    expect(r.stdout).toContain("id: LunarLander-v3");
  });

  it("reports config errors without a stack trace", () => {
    const r = qttdm(["train", "--print-config", "--set", "experiment.seed=-1"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('config key "experiment.seed": got -1');
    expect(r.stderr).not.toContain("    at ");
  });
});
