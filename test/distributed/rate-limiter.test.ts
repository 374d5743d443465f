import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { rateLimits, SampleToInsertRatio } from "../../src/distributed/rate-limiter.js";

describe("SampleToInsertRatio", () => {
  it("derives the single-process ratio and its window from the train section", () => {
    const config = loadConfig({ set: ["replay.transport=redis", "distributed.actors=2", "train.batchSize=32", "train.trainFreq=4", "train.gradientSteps=2", "train.learningStarts=500"] });
    expect(rateLimits(config)).toEqual({ samplesPerInsert: 16, minSizeToSample: 500, errorBuffer: 2 * (32 + 16 * 64 * 2) });
  });

  it("rejects an error buffer too small for one update and one message, naming the field", () => {
    const config = loadConfig({ set: ["replay.transport=redis", "distributed.actors=1", "distributed.errorBuffer=10", "train.batchSize=32"] });
    expect(() => rateLimits(config)).toThrow(/distributed\.errorBuffer: got 10, expected >= /);
  });

  it("keeps samples/inserts at the configured ratio whichever side runs ahead", () => {
    const limiter = new SampleToInsertRatio({ samplesPerInsert: 8, minSizeToSample: 100, errorBuffer: 200 });
    expect(limiter.updatesAllowed(99, 0, 16)).toBe(0);
    let inserts = 0;
    let samples = 0;
    // A fast learner: it samples everything it may after each insert of 10 transitions.
    for (let round = 0; round < 1_000; round++) {
      const limit = limiter.insertLimit(samples);
      if (inserts + 10 <= limit) inserts += 10;
      samples += 16 * limiter.updatesAllowed(inserts, samples, 16);
      if (inserts >= 100) expect(Math.abs(inserts * 8 - samples - 800)).toBeLessThanOrEqual(200 + 16);
    }
    expect(samples / inserts).toBeGreaterThan(7.5);
    expect(samples / inserts).toBeLessThan(8.5);
    // Actors wait once they are errorBuffer ahead of a learner that does not sample.
    expect(limiter.insertLimit(0)).toBe(Math.floor((800 + 200) / 8));
  });

  it("distributed.actors > 0 needs replay.transport: redis", () => {
    expect(() => loadConfig({ set: ["distributed.actors=2"] })).toThrow(/distributed\.actors.*replay\.transport: redis/s);
  });
});
