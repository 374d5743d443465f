import { describe, expect, it } from "vitest";
import { scheduleValue } from "../../src/core/schedule.js";

describe("schedules", () => {
  it("constant", () => expect(scheduleValue({ kind: "constant", value: 3 }, 1e9)).toBe(3));

  it("linear anneals over its window and holds after it", () => {
    const s = { kind: "linear", start: 1, end: 0.1, duration: 100, begin: 50 } as const;
    expect(scheduleValue(s, 0)).toBe(1);
    expect(scheduleValue(s, 50)).toBe(1);
    expect(scheduleValue(s, 100)).toBeCloseTo(0.55);
    expect(scheduleValue(s, 150)).toBeCloseTo(0.1);
    expect(scheduleValue(s, 10_000)).toBeCloseTo(0.1);
  });

  it("cosine starts and ends at its bounds and passes the midpoint halfway", () => {
    const s = { kind: "cosine", start: 0.7, end: 0.1, duration: 1000 } as const;
    expect(scheduleValue(s, 0)).toBeCloseTo(0.7);
    expect(scheduleValue(s, 500)).toBeCloseTo(0.4);
    expect(scheduleValue(s, 1000)).toBeCloseTo(0.1);
    expect(scheduleValue(s, 250)).toBeGreaterThan(0.55);
  });

  it("step multiplies by its factor and respects the floor", () => {
    const s = { kind: "step", start: 1e-3, factor: 0.5, every: 100, end: 3e-4 } as const;
    expect(scheduleValue(s, 99)).toBe(1e-3);
    expect(scheduleValue(s, 100)).toBe(5e-4);
    expect(scheduleValue(s, 1000)).toBe(3e-4);
  });
});
