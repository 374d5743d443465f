import { describe, expect, it } from "vitest";
import { QttdmError } from "../../src/core/errors.js";
import { Rng } from "../../src/core/rng.js";
import {
  aggregate,
  fractionAbove,
  iqm,
  mean,
  median,
  medianOfTaskMeans,
  optimalityGap,
  performanceProfile,
  probabilityOfImprovement,
  ScoreMatrix,
  stratifiedBootstrap,
  stratifiedIndependentBootstrap,
  type Scores,
  type ScoresLike,
} from "../../src/report/stats.js";

/** One task: each value is one run's score. */
const col = (xs: number[]): number[][] => xs.map((x) => [x]);

/** Throws a QttdmError whose message contains every fragment. */
function expectError(f: () => unknown, ...fragments: string[]): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(QttdmError);
  for (const frag of fragments) expect((caught as Error).message).toContain(frag);
}

// rliable's own test fixture (google-research/rliable, tests/rliable/metrics_test.py, MetricsTest.setUp and
// test_aggregate_metrics): x and y are num_runs x num_tasks; aggregate_median/mean/iqm(x) = 1.5,
// of y = 2, probability_of_improvement(x, y) = 1/3.
const RLIABLE_X = [[1, 2], [2, 2], [1, 1], [2, 1]];
const RLIABLE_Y = [[1, 1], [2, 2], [3, 3]];

describe("point statistics", () => {
  it("IQM drops floor(n/4) scores from each end of the sorted pooled scores", () => {
    // [1..8]: drop 2 each end, mean of [3,4,5,6] = 4.5; the same pooled over 2 runs x 4 tasks.
    expect(iqm(col([8, 1, 7, 2, 6, 3, 5, 4]))).toBe(4.5);
    expect(iqm([[1, 2, 3, 4], [5, 6, 7, 8]])).toBe(4.5);
    // 5 values: floor(5/4) = 1 dropped each end -> mean of [2, 3, 10] = 5.
    expect(iqm(col([10, 1, 3, 2, 100]))).toBe(5);
    // Ties: [1,1,1,5,5,5,9,9] -> drop 2 each end -> [1,5,5,5] -> 4.
    expect(iqm(col([5, 9, 1, 5, 1, 9, 5, 1]))).toBe(4);
    // n <= 3 drops nothing (scipy's trim_mean cuts int(0.25 n) = 0).
    expect(iqm(col([1, 2, 9]))).toBe(4);
    expect(iqm(col([7]))).toBe(7);
    // n = 4 keeps the middle two.
    expect(iqm(col([0, 1, 3, 100]))).toBe(2);
  });

  it("mean, median and median of task means", () => {
    expect(mean(col([1, 2, 3, 10]))).toBe(4);
    expect(median(col([1, 2, 3, 10]))).toBe(2.5);
    expect(median(col([10, 1, 3]))).toBe(3);
    expect(median([[1, 100], [2, 200], [3, 300]])).toBe(51.5); // pooled: [1,2,3,100,200,300]
    // rliable's aggregate_median: median over tasks of per-task means.
    expect(medianOfTaskMeans([[1, 100, 0], [3, 300, 0]])).toBe(2); // task means [2, 200, 0]
    expect(medianOfTaskMeans(col([1, 2, 9]))).toBe(4); // one task: the mean
  });

  it("matches the numbers in rliable's metrics_test.py", () => {
    expect(medianOfTaskMeans(RLIABLE_X)).toBe(1.5);
    expect(median(RLIABLE_X)).toBe(1.5);
    expect(mean(RLIABLE_X)).toBe(1.5);
    expect(iqm(RLIABLE_X)).toBe(1.5);
    expect(medianOfTaskMeans(RLIABLE_Y)).toBe(2);
    expect(median(RLIABLE_Y)).toBe(2);
    expect(mean(RLIABLE_Y)).toBe(2);
    expect(iqm(RLIABLE_Y)).toBe(2);
    expect(probabilityOfImprovement(RLIABLE_X, RLIABLE_Y)).toBeCloseTo(1 / 3, 15);
  });

  it("optimality gap is the mean shortfall below gamma", () => {
    // gamma 1: (0.8 + 0.1 + 0) / 3 = 0.3; gamma 0.5: (0.3 + 0 + 0) / 3 = 0.1; gamma 2: (1.8 + 1.1 + 0.7) / 3 = 1.2.
    expect(optimalityGap(col([0.2, 0.9, 1.3]))).toBeCloseTo(0.3, 14);
    expect(optimalityGap(col([0.2, 0.9, 1.3]), 0.5)).toBeCloseTo(0.1, 14);
    expect(optimalityGap(col([0.2, 0.9, 1.3]), 2)).toBeCloseTo(1.2, 14);
    expect(optimalityGap([[100, 250], [300, 50]], 200)).toBe((100 + 0 + 0 + 150) / 4);
    expect(optimalityGap(col([5, 6]), 1)).toBe(0);
  });

  it("probability of improvement counts wins as 1 and ties as 1/2, per task, averaged over tasks", () => {
    // x=[1,2,3] vs y=[2,2,2]: x=1 loses 3 times (0), x=2 ties 3 times (1.5), x=3 wins 3 times (3) -> 4.5/9.
    expect(probabilityOfImprovement(col([1, 2, 3]), col([2, 2, 2]))).toBe(0.5);
    // x=[1,2,2] vs y=[2,3]: x=1: 0+0, x=2: 0.5+0, x=2: 0.5+0 -> 1/6; and y over x: 2: 1+.5+.5, 3: 3 -> 5/6.
    expect(probabilityOfImprovement(col([1, 2, 2]), col([2, 3]))).toBeCloseTo(1 / 6, 15);
    expect(probabilityOfImprovement(col([2, 3]), col([1, 2, 2]))).toBeCloseTo(5 / 6, 15);
    // Identical samples -> 0.5; disjoint -> 1 or 0.
    expect(probabilityOfImprovement(col([4, 1, 7, 7]), col([4, 1, 7, 7]))).toBe(0.5);
    expect(probabilityOfImprovement(col([3, 3, 3]), col([3, 3]))).toBe(0.5);
    expect(probabilityOfImprovement(col([5, 6, 7]), col([1, 2]))).toBe(1);
    expect(probabilityOfImprovement(col([1, 2]), col([5, 6, 7]))).toBe(0);
    // Two tasks: task 0 disjoint above (1), task 1 is the 1/6 fixture -> (1 + 1/6) / 2 = 7/12.
    expect(probabilityOfImprovement([[5, 1], [6, 2], [7, 2]], [[1, 2], [2, 3]])).toBeCloseTo(7 / 12, 15);
  });

  it("P(X > Y) + P(Y > X) = 1 on random samples with ties", () => {
    const r = new Rng(3);
    const x = Array.from({ length: 7 }, () => [r.integers(0, 5), r.integers(0, 5)]);
    const y = Array.from({ length: 4 }, () => [r.integers(0, 5), r.integers(0, 5)]);
    expect(probabilityOfImprovement(x, y) + probabilityOfImprovement(y, x)).toBeCloseTo(1, 15);
  });

  it("score distribution counts scores strictly above tau", () => {
    const s = col([0.1, 0.5, 0.5, 0.9]);
    expect(fractionAbove(s, 0)).toBe(1);
    expect(fractionAbove(s, 0.5)).toBe(0.25); // the two 0.5s are not above 0.5
    expect(fractionAbove(s, 0.3)).toBe(0.75);
    expect(fractionAbove(s, 1)).toBe(0);
    expect(fractionAbove([[1, 3], [2, 4]], 2)).toBe(0.5);
  });

  it("accepts typed-array rows and ScoreMatrix inputs", () => {
    const rows = [Float64Array.of(1, 2), Float64Array.of(3, 4)];
    expect(mean(rows)).toBe(2.5);
    const m = ScoreMatrix.from([[1, 2], [3, 4]]);
    expect(m.runs).toBe(2);
    expect(m.tasks).toBe(2);
    expect(m.at(1, 0)).toBe(3);
    expect(m.toArray()).toEqual([[1, 2], [3, 4]]);
    expect(ScoreMatrix.from(m)).toBe(m);
    expect(iqm(m)).toBe(2.5);
  });
});

describe("stratifiedBootstrap", () => {
  const sample = col([3.1, 0.4, 2.2, 5.0, 1.7, 2.9, 4.4, 0.9, 3.6, 2.0]);

  it("is deterministic for a seed and differs across seeds", () => {
    const a = stratifiedBootstrap(sample, iqm, { seed: 11 });
    expect(stratifiedBootstrap(sample, iqm, { seed: 11 })).toEqual(a);
    const b = stratifiedBootstrap(sample, iqm, { seed: 12 });
    expect(b.point).toBe(a.point);
    expect([b.lo, b.hi]).not.toEqual([a.lo, a.hi]);
  });

  it("reports the statistic on the data as the point, inside the interval", () => {
    for (const stat of [iqm, mean, median, (s: ScoresLike) => optimalityGap(s, 3)]) {
      const r = stratifiedBootstrap(sample, stat, { seed: 5 });
      expect(r.point).toBe(stat(sample));
      expect(r.lo).toBeLessThanOrEqual(r.point);
      expect(r.point).toBeLessThanOrEqual(r.hi);
      expect(r.lo).toBeLessThan(r.hi);
    }
  });

  it("gives a zero-width interval on constant data", () => {
    const r = stratifiedBootstrap([[2.5, -1], [2.5, -1], [2.5, -1]], iqm, { seed: 1, reps: 500 });
    expect(r).toEqual({ point: 0.75, lo: 0.75, hi: 0.75 });
    const g = aggregate(col([4, 4, 4, 4]), { seed: 2, gamma: 5 });
    for (const i of [g.iqm, g.mean, g.median]) expect(i).toEqual({ point: 4, lo: 4, hi: 4 });
    expect(g.optimalityGap).toEqual({ point: 1, lo: 1, hi: 1 });
  });

  it("shrinks with more runs", () => {
    // The 10 runs repeated 4 times have the same plug-in spread, so the bootstrap sd of the mean is halved.
    // The ratio of widths is 0.5 up to Monte Carlo error (each width from 2000 replications varies by ~3%;
    // seeds 1-9 give 0.49-0.51), so [0.4, 0.6] is several standard errors wide.
    const w10 = stratifiedBootstrap(sample, mean, { seed: 9 });
    const w40 = stratifiedBootstrap([...sample, ...sample, ...sample, ...sample], mean, { seed: 9 });
    const ratio = (w40.hi - w40.lo) / (w10.hi - w10.lo);
    expect(ratio).toBeGreaterThan(0.4);
    expect(ratio).toBeLessThan(0.6);
  });

  it("for the mean of a symmetric sample, the percentile interval is close to the normal-theory interval", () => {
    // The bootstrap distribution of the mean has sd se = sigma_plugin / sqrt(n) and is close to normal for
    // n = 100, so the 95% percentile interval should be mean ± 1.959964 se. Tolerance 0.1 se per end: the
    // Monte Carlo standard error of a 2.5% quantile estimated from B = 20000 replications is
    // sqrt(0.025 * 0.975 / B) / phi(1.96) ≈ 0.019 se (so 0.1 se is > 5 MC standard errors), and with a
    // symmetric sample (skewness 0) the non-normality of the resampled mean is O(1/n), well below that.
    const r = new Rng(2024);
    const half = Array.from({ length: 50 }, () => r.normal(10, 3) - 10);
    const xs = [...half, ...half.map((v) => -v)].map((v) => v + 10);
    const n = xs.length;
    const m = xs.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / n);
    const se = sd / Math.sqrt(n);
    const b = stratifiedBootstrap(col(xs), mean, { seed: 77, reps: 20000 });
    expect(b.point).toBeCloseTo(10, 12);
    expect(Math.abs(b.lo - (m - 1.959964 * se))).toBeLessThan(0.1 * se);
    expect(Math.abs(b.hi - (m + 1.959964 * se))).toBeLessThan(0.1 * se);
    // A 50% interval likewise: ± 0.674490 se (MC SE ≈ sqrt(.25 * .75 / B) / phi(0.674) ≈ 0.0097 se).
    const c = stratifiedBootstrap(col(xs), mean, { seed: 78, reps: 20000, confidence: 0.5 });
    expect(Math.abs(c.lo - (m - 0.67449 * se))).toBeLessThan(0.06 * se);
    expect(Math.abs(c.hi - (m + 0.67449 * se))).toBeLessThan(0.06 * se);
  });

  it("resamples runs within each task independently, keeping each task's values in its column", () => {
    const s = [[1, 10], [2, 20], [3, 30]];
    const seen: number[][][] = [];
    stratifiedBootstrap(s, (m) => (seen.push(m.toArray()), 0), { seed: 4, reps: 200 });
    expect(seen.length).toBe(201); // the data once, then every replication
    expect(seen[0]).toEqual(s);
    let mixed = false;
    for (const rs of seen.slice(1)) {
      expect(rs.length).toBe(3);
      for (const [a, b] of rs) {
        expect([1, 2, 3]).toContain(a);
        expect([10, 20, 30]).toContain(b);
        if (b !== 10 * a!) mixed = true; // a row no original run has: tasks were drawn separately
      }
    }
    expect(mixed).toBe(true);
  });

  it("uses numpy's linear percentile of the replications", () => {
    // With reps = 2 the replications are two values v0 <= v1; the 95% interval is
    // [v0 + 0.025 (v1 - v0), v1 - 0.025 (v1 - v0)] (positions 0.025 and 0.975 of a length-2 array).
    const vals: number[] = [];
    const r = stratifiedBootstrap(sample, (m) => { const v = mean(m); vals.push(v); return v; }, { seed: 3, reps: 2 });
    const [v0, v1] = vals.slice(1).sort((a, b) => a - b) as [number, number];
    expect(r.lo).toBeCloseTo(v0 + 0.025 * (v1 - v0), 12);
    expect(r.hi).toBeCloseTo(v1 - 0.025 * (v1 - v0), 12);
    // reps = 1: both ends are the one replication.
    const one = stratifiedBootstrap(sample, mean, { seed: 3, reps: 1 });
    expect(one.lo).toBe(one.hi);
  });
});

describe("stratifiedIndependentBootstrap", () => {
  const x = col([1.2, 3.4, 2.2, 5.1, 4.0]);
  const y = col([0.9, 2.5, 1.1]);

  it("resamples each argument on its own, with its own run count", () => {
    const shapes = new Set<string>();
    stratifiedIndependentBootstrap([x, y], (a, b) => (shapes.add(`${a!.runs}x${a!.tasks},${b!.runs}x${b!.tasks}`), 0), { seed: 1, reps: 20 });
    expect([...shapes]).toEqual(["5x1,3x1"]);
    // The same sample twice: shared indices would always give exactly 0.5; independent resamples vary.
    const same = stratifiedIndependentBootstrap([x, x], probabilityOfImprovement, { seed: 2 });
    expect(same.point).toBe(0.5);
    expect(same.lo).toBeLessThan(0.5);
    expect(same.hi).toBeGreaterThan(0.5);
  });

  it("gives the probability of improvement with an interval, deterministically", () => {
    const r = stratifiedIndependentBootstrap([x, y], probabilityOfImprovement, { seed: 8 });
    expect(r.point).toBe(probabilityOfImprovement(x, y));
    expect(r.point).toBeCloseTo(13 / 15, 15); // by hand, wins over y = [0.9, 2.5, 1.1]: 1.2 -> 2, 3.4 -> 3, 2.2 -> 2, 5.1 -> 3, 4.0 -> 3; 13 of 15 pairs
    expect(r.lo).toBeLessThanOrEqual(r.point);
    expect(r.point).toBeLessThanOrEqual(r.hi);
    expect(r.hi).toBeLessThanOrEqual(1);
    expect(stratifiedIndependentBootstrap([x, y], probabilityOfImprovement, { seed: 8 })).toEqual(r);
    // Disjoint samples stay disjoint under resampling: a zero-width interval at 1.
    expect(stratifiedIndependentBootstrap([col([5, 6, 7]), col([1, 2])], probabilityOfImprovement, { seed: 8 })).toEqual({ point: 1, lo: 1, hi: 1 });
  });
});

describe("performanceProfile", () => {
  it("is the score distribution at each tau, with a band from the stratified bootstrap", () => {
    const s = col([0.1, 0.5, 0.5, 0.9, 0.3, 0.7, 0.2, 0.8]);
    const taus = [0, 0.25, 0.5, 0.75, 1];
    const p = performanceProfile(s, taus, { seed: 6, reps: 1000 });
    expect(p.taus).toEqual(taus);
    // > 0: 8/8; > 0.25: 0.5,0.5,0.9,0.3,0.7,0.8 = 6/8; > 0.5: 0.9,0.7,0.8 = 3/8; > 0.75: 0.9,0.8 = 2/8; > 1: 0.
    expect(p.profile).toEqual([1, 0.75, 0.375, 0.25, 0]);
    for (let i = 0; i < taus.length; i++) {
      const single = stratifiedBootstrap(s, (m) => fractionAbove(m, taus[i]!), { seed: 6, reps: 1000 });
      expect([p.lo[i], p.hi[i]]).toEqual([single.lo, single.hi]);
      expect(p.lo[i]).toBeLessThanOrEqual(p.profile[i]!);
      expect(p.profile[i]).toBeLessThanOrEqual(p.hi[i]!);
      if (i > 0) {
        expect(p.lo[i]).toBeLessThanOrEqual(p.lo[i - 1]!);
        expect(p.hi[i]).toBeLessThanOrEqual(p.hi[i - 1]!);
      }
    }
    expect([p.lo[0], p.hi[0], p.lo[4], p.hi[4]]).toEqual([1, 1, 0, 0]);
    expect(p.lo[2]).toBeLessThan(p.hi[2]!);
  });
});

describe("aggregate", () => {
  it("gives IQM, mean, median and optimality gap, each equal to its own stratified bootstrap", () => {
    const s = [[0.2, 1.4], [0.9, 0.3], [1.3, 0.8], [0.5, 1.1], [0.7, 0.6]];
    const opts = { seed: 21, reps: 1500, confidence: 0.9, gamma: 1 };
    const a = aggregate(s, opts);
    expect(a.iqm).toEqual(stratifiedBootstrap(s, iqm, opts));
    expect(a.mean).toEqual(stratifiedBootstrap(s, mean, opts));
    expect(a.median).toEqual(stratifiedBootstrap(s, median, opts));
    expect(a.optimalityGap).toEqual(stratifiedBootstrap(s, (m) => optimalityGap(m, 1), opts));
    expect(a.mean.point).toBeCloseTo(0.78, 14);
    expect(a.median.point).toBeCloseTo(0.75, 14); // pooled sorted: .2 .3 .5 .6 .7 .8 .9 1.1 1.3 1.4
    expect(a.iqm.point).toBeCloseTo((0.5 + 0.6 + 0.7 + 0.8 + 0.9 + 1.1) / 6, 14); // 10 scores, 2 cut each end
    expect(a.optimalityGap.point).toBeCloseTo(0.3, 14); // run by run: (0.8 + 0) + (0.1 + 0.7) + (0 + 0.2) + (0.5 + 0) + (0.3 + 0.4) = 3 over 10
    // gamma defaults to 1.
    expect(aggregate(s, { seed: 21 }).optimalityGap.point).toBe(optimalityGap(s));
  });
});

describe("input validation", () => {
  const ok = col([1, 2, 3]);

  it("rejects empty, ragged, non-finite and non-array scores, naming the argument and the value", () => {
    expectError(() => iqm([]), "iqm", "scores", "at least one run", "[]");
    expectError(() => mean([[]]), "mean", "scores[0]", "at least one task", "[]");
    expectError(() => median([[1, 2], [3]]), "median", "scores[1]", "1 task scores", "[3]", "expected 2");
    expectError(() => iqm([[1], [Number.NaN]]), "scores[1][0]", "NaN", "finite number");
    expectError(() => optimalityGap([[1, Number.POSITIVE_INFINITY]]), "optimalityGap", "scores[0][1]", "Infinity");
    expectError(() => mean([[1], ["2" as unknown as number]]), "scores[1][0]", '"2"');
    expectError(() => mean("abc" as unknown as Scores), "array of runs", '"abc"');
    expectError(() => mean([1, 2] as unknown as Scores), "scores[0]", "array of per-task scores", "1");
    expectError(() => mean(null as unknown as Scores), "scores", "null");
    expectError(() => stratifiedBootstrap([[1], [2, 3]], mean, { seed: 1 }), "stratifiedBootstrap", "scores[1]", "expected 1");
    expectError(() => performanceProfile([], [0], { seed: 1 }), "performanceProfile", "at least one run");
    expectError(() => aggregate([[Number.NaN]], { seed: 1 }), "aggregate", "scores[0][0]", "NaN");
  });

  it("names x or y in probability of improvement and requires the same tasks", () => {
    expectError(() => probabilityOfImprovement([], ok), "probabilityOfImprovement", "x", "at least one run");
    expectError(() => probabilityOfImprovement(ok, [[Number.NaN]]), "y[0][0]", "NaN");
    expectError(() => probabilityOfImprovement(ok, [[1, 2]]), "x has 1 tasks", "y has 2");
  });

  it("rejects bad bootstrap options", () => {
    expectError(() => stratifiedBootstrap(ok, mean, { seed: 1, reps: 0 }), "stratifiedBootstrap", "reps", "0", "integer >= 1");
    expectError(() => stratifiedBootstrap(ok, mean, { seed: 1, reps: 2.5 }), "reps", "2.5");
    expectError(() => stratifiedBootstrap(ok, mean, { seed: 1, reps: Number.NaN }), "reps", "NaN");
    expectError(() => stratifiedBootstrap(ok, mean, { seed: 1, confidence: 0 }), "confidence", "0", "between 0 and 1");
    expectError(() => stratifiedBootstrap(ok, mean, { seed: 1, confidence: 1 }), "confidence", "1", "between 0 and 1");
    expectError(() => stratifiedBootstrap(ok, mean, { seed: 1, confidence: 95 }), "confidence", "95");
    expectError(() => stratifiedBootstrap(ok, mean, { seed: 1, confidence: Number.NaN }), "confidence", "NaN");
    expectError(() => stratifiedBootstrap(ok, mean, { seed: Number.NaN }), "seed", "NaN", "integer");
    expectError(() => stratifiedBootstrap(ok, mean, {} as { seed: number }), "seed", "undefined");
    expectError(() => stratifiedBootstrap(ok, mean, { seed: 0.5 }), "seed", "0.5");
    expectError(() => stratifiedBootstrap(ok, mean, undefined as unknown as { seed: number }), "options", "undefined");
    expectError(() => aggregate(ok, { seed: 1, reps: -3 }), "aggregate", "reps", "-3");
    expectError(() => performanceProfile(ok, [0], { seed: 1, confidence: 1.5 }), "performanceProfile", "confidence", "1.5");
    expectError(() => stratifiedIndependentBootstrap([ok, ok], probabilityOfImprovement, { seed: 1, reps: 0 }), "stratifiedIndependentBootstrap", "reps");
  });

  it("rejects bad thresholds, statistics and sample lists", () => {
    expectError(() => optimalityGap(ok, Number.NaN), "optimalityGap", "gamma", "NaN");
    expectError(() => aggregate(ok, { seed: 1, gamma: Number.POSITIVE_INFINITY }), "aggregate", "gamma", "Infinity");
    expectError(() => fractionAbove(ok, Number.NaN), "fractionAbove", "tau", "NaN");
    expectError(() => performanceProfile(ok, [], { seed: 1 }), "performanceProfile", "taus", "non-empty", "[]");
    expectError(() => performanceProfile(ok, [0, Number.NaN], { seed: 1 }), "taus[1]", "NaN");
    expectError(() => stratifiedIndependentBootstrap([], probabilityOfImprovement, { seed: 1 }), "samples", "non-empty", "[]");
    expectError(() => stratifiedIndependentBootstrap([ok, [[1], [2, 3]]], probabilityOfImprovement, { seed: 1 }), "samples[1][1]", "expected 1");
    expectError(() => stratifiedIndependentBootstrap([ok, [[1, 2]]], probabilityOfImprovement, { seed: 1 }), "x has 1 tasks", "y has 2");
    expectError(() => stratifiedBootstrap(ok, 3 as unknown as () => number, { seed: 1 }), "statistic", "function", "3");
    expectError(() => stratifiedBootstrap(ok, () => Number.NaN, { seed: 1 }), "statistic on the data", "NaN");
    let calls = 0;
    expectError(() => stratifiedBootstrap(ok, () => (calls++ === 0 ? 1 : Number.POSITIVE_INFINITY), { seed: 1 }), "replication 0", "Infinity");
    expectError(() => stratifiedBootstrap(ok, () => "1" as unknown as number, { seed: 1 }), "statistic returned", '"1"');
  });
});
