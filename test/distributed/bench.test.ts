import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { projectRun } from "../../src/bench/distributed-projection.js";
import { qttdm } from "../helpers/cli.js";

describe("distributed projection", () => {
  // An actor makes 100 transitions/s; the learner takes 10 ms per update and 0.1 ms per insert.
  const inputs = { actorTransitionsPerS: 100, updateSeconds: 0.01, insertSeconds: 0.0001, batchSize: 64 };
  it("is actor-bound until N actors offer more than the learner's capacity 1 / (spi/B · t_update + t_insert), then learner-bound", () => {
    // spi 6.4: 0.1 update per transition, 1.1 ms each: capacity 909.09 transitions/s.
    const few = projectRun({ ...inputs, samplesPerInsert: 6.4 }, 8);
    expect(few.transitionsPerS).toBe(800);
    expect(few.actorUtilisation).toBe(1);
    expect(few.learnerUtilisation).toBeCloseTo(800 / (1 / 0.0011), 12);
    const many = projectRun({ ...inputs, samplesPerInsert: 6.4 }, 32);
    expect(many.transitionsPerS).toBeCloseTo(1 / 0.0011, 9);
    expect(many.learnerUtilisation).toBeCloseTo(1, 12);
    expect(many.actorUtilisation).toBeCloseTo(1 / 0.0011 / 3200, 12);
  });
});

const hasRedis = spawnSync("redis-server", ["--version"]).status === 0;
if (!hasRedis) console.warn("test/distributed/bench.test.ts: skipped, redis-server is not installed (Debian: apt-get install redis-server)");

describe.skipIf(!hasRedis)("bench distributed", () => {
  it("--quick: 4 producers through a private redis-server; the last line is the figures, nothing lost or rejected", () => {
    const r = qttdm(["bench", "distributed", "--quick"], { timeoutMs: 120_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const figures = JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, number>;
    expect(figures.actors).toBe(4);
    expect(figures.transitions_per_s).toBeGreaterThan(1_000);
    expect(figures.rejected_messages).toBe(0);
    expect(figures.inserted_transitions).toBeGreaterThan(0);
    expect(figures.inserted_transitions).toBeLessThanOrEqual(figures.sent_transitions!);
    expect(r.stdout).toMatch(/rejected 0, lost 0/);
    // The projection of the default preset from its measured rates.
    expect(figures.projection_preset).toBe("lunarlander/dqn-reaper");
    expect(figures.actor_transitions_per_s).toBeGreaterThan(0);
    expect(figures.learner_updates_per_s).toBeGreaterThan(0);
    for (const n of [1, 2, 8, 32, 128]) {
      const rate = figures[`projected_spi1_${n}_actors_transitions_per_s`]!;
      expect(rate).toBeGreaterThan(0);
      expect(figures[`projected_spi1_${n}_actors_learner_utilisation`]).toBeLessThanOrEqual(1);
    }
    // More actors never lower the projected rate.
    expect(figures.projected_spi1_128_actors_transitions_per_s).toBeGreaterThanOrEqual(figures.projected_spi1_1_actors_transitions_per_s!);
  });
});
