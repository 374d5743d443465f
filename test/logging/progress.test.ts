import { describe, expect, it } from "vitest";
import { Progress, fmtDuration } from "../../src/logging/index.js";

function fakeStream(isTTY: boolean, columns?: number) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns, write: (s: string) => writes.push(s) } };
}

describe("Progress", () => {
  it("on a TTY redraws one line in place, at most every 250 ms", () => {
    let now = 0;
    const { writes, stream } = fakeStream(true, 200);
    const p = new Progress({ total: 10_000, stream, now: () => now, label: "train" });
    for (let step = 1; step <= 2000; step++) {
      now += 1; // 1 ms per step: 1000 steps/s
      p.update(step);
    }
    // Updates at t = 1..2000 ms with a 250 ms throttle draw at t = 1, 251, …, 1751.
    expect(writes.length).toBe(8);
    for (const w of writes) {
      expect(w.startsWith("\r")).toBe(true);
      expect(w.endsWith("\x1b[K")).toBe(true);
      expect(w).not.toContain("\n");
    }
    p.update(2000, { episodicReturn: -123.456, evalReturn: 200 });
    p.finish();
    const last = writes[writes.length - 2]!;
    expect(last).toBe("\rtrain 2,000/10,000 (20.0%) | 1000 steps/s | ETA 8s | return -123.46 | eval 200.00\x1b[K");
    expect(writes[writes.length - 1]).toBe("\n");
    p.finish();
    p.update(3000);
    expect(writes[writes.length - 1]).toBe("\n"); // nothing drawn after finish
  });

  it("keeps the TTY line inside the terminal width and lets messages through", () => {
    let now = 0;
    const { writes, stream } = fakeStream(true, 30);
    const p = new Progress({ total: 100, stream, now: () => now });
    now = 1000;
    p.update(50);
    expect(writes[writes.length - 1]!.length).toBe(1 + 29 + 3);
    p.log("eval done");
    expect(writes[writes.length - 2]).toBe("\r\x1b[Keval done\n");
    expect(writes[writes.length - 1]!.startsWith("\r50/100")).toBe(true);
  });

  it("without a TTY prints plain lines every interval and at percentage marks", () => {
    let now = 0;
    const { writes, stream } = fakeStream(false);
    const p = new Progress({ total: 1000, stream, now: () => now, plainIntervalMs: 10_000, plainEveryPercent: 25 });
    for (let step = 1; step <= 600; step++) {
      now += 100; // 10 steps/s, 60 s in all
      p.update(step);
    }
    for (const w of writes) {
      expect(w.endsWith("\n")).toBe(true);
      expect(w).not.toContain("\r");
    }
    const steps = writes.map((w) => Number(w.split("/")[0]!.replace(/,/g, "")));
    // step 1 (first update), every 100 steps (10 s) and the 25% / 50% marks (steps 250, 500).
    expect(steps).toEqual([1, 101, 201, 250, 350, 450, 500, 600]);
    expect(writes[writes.length - 1]).toBe("600/1,000 (60.0%) | 10.0 steps/s | ETA 40s\n");
  });

  it("measures steps/s over a recent window and counts from the resume step", () => {
    let now = 0;
    const { writes, stream } = fakeStream(false);
    const p = new Progress({ total: 100_000, start: 50_000, stream, now: () => now, plainIntervalMs: 1e9, rateWindowMs: 10_000 });
    // 60 s at 10 steps/s, then 20 s at 100 steps/s.
    let step = 50_000;
    for (let i = 0; i < 600; i++) p.update((step += 1), ((now += 100), {}));
    for (let i = 0; i < 2000; i++) p.update((step += 1), ((now += 10), {}));
    expect(p.line()).toMatch(/^52,600\/100,000 \(52\.6%\) \| 100 steps\/s \| ETA 7m54s$/);
    expect(writes).toHaveLength(1); // only the first update, given the huge interval
    expect(new Progress({ total: 10, stream, now: () => 0 }).line()).toBe("0/10 (0.0%) | - steps/s | ETA -");
  });

  it("rejects a bad total and formats durations", () => {
    expect(() => new Progress({ total: 0, stream: fakeStream(false).stream })).toThrow(/total must be a positive number of steps, got 0/);
    expect([fmtDuration(42), fmtDuration(185), fmtDuration(7620), fmtDuration(273600)]).toEqual(["42s", "3m05s", "2h07m", "3d04h"]);
  });
});
