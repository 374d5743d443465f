import { expect, it } from "vitest";
import { replayBenchmark } from "../../src/bench/replay.js";

it("bench replay runs and reports its figures", async () => {
  const lines: string[] = [];
  const fig = await replayBenchmark.run({ quick: true, options: { capacity: 4000, rounds: 40 }, log: (l) => lines.push(l) });
  expect(replayBenchmark.name).toBe("replay");
  for (const k of ["uniform_rounds_per_s", "per_rounds_per_s", "reaper_rounds_per_s", "reaper_add_transitions_per_s", "reaper_refresh_ms", "buffer_bytes_mb"]) {
    expect(fig[k], k).toBeGreaterThan(0);
  }
  expect(lines.length).toBeGreaterThan(3);
});
