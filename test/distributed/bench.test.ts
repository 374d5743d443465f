import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { qttdm } from "../helpers/cli.js";

const hasRedis = spawnSync("redis-server", ["--version"]).status === 0;
if (!hasRedis) console.warn("test/distributed/bench.test.ts: skipped, redis-server is not installed (Debian: apt-get install redis-server)");

describe.skipIf(!hasRedis)("bench distributed", () => {
  it("--quick: 4 producers through a private redis-server; the last line is the figures, nothing lost or rejected", () => {
    const r = qttdm(["bench", "distributed", "--quick"], { timeoutMs: 60_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const figures = JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, number>;
    expect(figures.actors).toBe(4);
    expect(figures.transitions_per_s).toBeGreaterThan(1_000);
    expect(figures.rejected_messages).toBe(0);
    expect(figures.inserted_transitions).toBeGreaterThan(0);
    expect(figures.inserted_transitions).toBeLessThanOrEqual(figures.sent_transitions!);
    expect(r.stdout).toMatch(/rejected 0, lost 0/);
  });
});
