import { describe, expect, it } from "vitest";
import { trainSchema } from "../../src/agents/config.js";
import { updatesDue } from "../../src/train/cadence.js";

describe("updatesDue", () => {
  it("counts a run's updates step by step as the whole run does (the lr-decay horizon is the trainer's count)", () => {
    for (const [learningStarts, trainFreq, gradientSteps, copies] of [[1000, 4, 4, 4], [0, 1, 1, 1], [7, 3, 2, 5], [50, 8, 1, 3]]) {
      const cadence = trainSchema.parse({ learningStarts, trainFreq, gradientSteps });
      let stepwise = 0;
      for (let t = 0; t < 2000; t += copies) stepwise += updatesDue(t, t + copies, cadence);
      const end = Math.ceil(2000 / copies) * copies;
      expect(updatesDue(0, end, cadence)).toBe(stepwise);
    }
    // The default DQN preset: 200k env steps over 4 copies, updates from 1,000 on (the 199,004 a run logs).
    expect(updatesDue(0, 200_000, trainSchema.parse({ learningStarts: 1000, trainFreq: 4, gradientSteps: 4 }))).toBe(199_004);
    expect(updatesDue(0, 500, trainSchema.parse({ learningStarts: 1000 }))).toBe(0);
  });
});
