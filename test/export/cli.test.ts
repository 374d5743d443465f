// `qttdm export` as a user runs it (the compiled binary): default outputs, and one-line errors with exit status 2.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { onnxMetadata } from "../../src/export/onnx.js";
import { qttdm } from "../helpers/cli.js";
import { tinyRun } from "./helpers.js";

function oneLineError(r: { status: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(r.status).toBe(2);
  expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("qttdm export", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tinyRun([]);
  });

  it("writes <run>/policy.onnx by default and prints its size", () => {
    const r = qttdm(["export", "--checkpoint", dir]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const file = join(dir, "policy.onnx");
    expect(r.stdout).toContain(`written to ${file}: `);
    expect(r.stdout).toMatch(/KiB/);
    expect(onnxMetadata(new Uint8Array(readFileSync(file)))["qttdm.env"]).toBe("LunarLander-v3");
  });

  it("--format tfjs writes <run>/policy-tfjs/ with model.json and its weights", () => {
    const r = qttdm(["export", "--checkpoint", join(dir, "checkpoints"), "--format", "tfjs"]);
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, "policy-tfjs", "model.json"))).toBe(true);
    expect(existsSync(join(dir, "policy-tfjs", "group1-shard1of1.bin"))).toBe(true);
    expect(r.stdout).toContain(`written to ${join(dir, "policy-tfjs")}/`);
  });

  it("--int8 --out prints the size against float32 and the action agreement", () => {
    const out = join(dir, "small.onnx");
    const r = qttdm(["export", "--checkpoint", dir, "--int8", "--out", out]);
    expect(r.status).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(r.stdout).toMatch(/written to .*small\.onnx: [\d.]+ KiB \(float32: [\d.]+ KiB, [\d.]+%\)/);
    expect(r.stdout).toMatch(/int8 vs float32 greedy actions: [\d.]+% agree on 10000 states drawn uniformly from .*replay\.bin/);
  });

  it("bad options and a missing checkpoint are one-line errors", () => {
    oneLineError(qttdm(["export", "--checkpoint", dir, "--format", "pb"]), /^qttdm: --format "pb": expected one of onnx, tfjs$/m);
    oneLineError(qttdm(["export", "--checkpoint", join(dir, "nope")]), /^qttdm: export: checkpoint .*nope does not exist/);
    oneLineError(qttdm(["export", "--checkpoint", dir, "--format", "tfjs", "--int8"]), /--int8 applies to --format onnx only/);
    oneLineError(qttdm(["export", "--checkpoint", dir, "--keep-float", "middle", "--int8"]), /--keep-float "middle": expected first, last or first,last/);
  });

  it("a QT-TDM run that plans is refused with a one-line error", async () => {
    const qt = await tinyRun(["agent.planner.mode=qt", "agent.tdm={size: small, layers: 1, width: 16, heads: 2}", "agent.qt.layers=1", "agent.qt.width=16", "agent.qt.heads=2"], "lunarlander/qttdm");
    oneLineError(qttdm(["export", "--checkpoint", qt]), /^qttdm: export: .* is a qttdm run that acts by the Q-Transformer's autoregressive decoding; only a greedy Q-network can be exported/);
    expect(existsSync(join(qt, "policy.onnx"))).toBe(false);
  });
});
