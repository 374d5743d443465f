// Option validation from issue 29 item 9: eval's --episodes/--seed and reserved --set segments,
// each a one-line `qttdm: ...` error with exit 2 that names the option, the value and what was expected.
import { describe, expect, it } from "vitest";
import { qttdm } from "../helpers/cli.js";

/** A checkpoint path that does not exist: option validation must fail before the checkpoint is opened. */
const missing = "/nonexistent/qttdm-run";

function expectOneLineError(r: { status: number | null; stderr: string }, ...parts: string[]): void {
  expect(r.status, r.stderr).toBe(2);
  const lines = r.stderr.trim().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^qttdm: /);
  for (const p of parts) expect(lines[0]).toContain(p);
  expect(r.stderr).not.toContain("no config.yaml found");
}

describe("qttdm eval option validation", () => {
  it("requires --episodes to be a positive integer", () => {
    for (const bad of ["0", "-3", "abc", "1.5"]) {
      const r = qttdm(["eval", "--checkpoint", missing, "--episodes", bad]);
      expectOneLineError(r, "--episodes", "positive integer");
      expect(r.stderr, bad).toContain(bad === "abc" ? "abc" : bad);
    }
  });

  it("requires --seed, when given, to be a non-negative integer", () => {
    for (const bad of ["-1", "abc", "2.5"]) {
      const r = qttdm(["eval", "--checkpoint", missing, "--seed", bad]);
      expectOneLineError(r, "--seed", "non-negative integer", bad);
    }
  });

  it("accepts valid values and goes on to open the checkpoint", () => {
    const r = qttdm(["eval", "--checkpoint", missing, "--episodes", "3", "--seed", "0"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("no config.yaml found");
    expect(r.stderr).not.toMatch(/--episodes|--seed/);
  });
});

describe("qttdm train --set with a reserved segment", () => {
  it("is a one-line error, not a silent prototype write", () => {
    const r = qttdm(["train", "--print-config", "--set", "__proto__.x=1"]);
    expect(r.status, r.stdout).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain('"__proto__"');
  });
});
