/**
 * Robust statistics for RL results, as defined by rliable (Agarwal et al., "Deep Reinforcement Learning at
 * the Edge of the Statistical Precipice", NeurIPS 2021; google-research/rliable, `rliable/metrics.py` and
 * `rliable/library.py`).
 *
 * Scores are `number[][]` indexed `[run][task]`, like rliable's arrays of shape `(num_runs, num_tasks)`; a
 * single-task result is one row `[x]` per run. Point statistics (IQM, mean, median, optimality gap,
 * probability of improvement, score distribution) accept either such an array or a {@link ScoreMatrix}, so
 * they can be handed directly to {@link stratifiedBootstrap} as its statistic.
 *
 * Intervals are percentile intervals of a stratified bootstrap (rliable's `StratifiedBootstrap`, the default
 * `method='percentile'` of `get_interval_estimates`): runs are resampled with replacement independently
 * within each task, and the interval is [q(α/2), q(1 − α/2)] of the bootstrap statistics with α = 1 −
 * confidence, q being numpy's default (linear) percentile, as arch's `conf_int(method='percentile')` uses.
 * Every random draw comes from the seeded {@link Rng}, so an interval is a pure function of its inputs and
 * seed (it does not reproduce rliable's numpy stream, only its procedure).
 */
import { mean as meanOfArray } from "../core/arrays.js";
import { QttdmError, show } from "../core/errors.js";
import { Rng } from "../core/rng.js";

/** Scores indexed `[run][task]` (rliable's `(num_runs, num_tasks)`); every run has the same number of tasks. */
export type Scores = ReadonlyArray<ArrayLike<number>>;

/** Scores as an array or as an already validated {@link ScoreMatrix}. */
export type ScoresLike = Scores | ScoreMatrix;

/** A point estimate with its bootstrap confidence interval. */
export interface Interval {
  /** The statistic on the data as given. */
  point: number;
  /** Lower end of the percentile interval. */
  lo: number;
  /** Upper end of the percentile interval. */
  hi: number;
}

export interface BootstrapOptions {
  /** Bootstrap replications (integer ≥ 1); default 2000 (rliable's default for performance profiles). */
  reps?: number;
  /** Coverage of the two-sided interval, in (0, 1); default 0.95. */
  confidence?: number;
  /** Seed of the {@link Rng} that draws the resampling indices (a safe integer). */
  seed: number;
}

/**
 * Validated scores in one row-major `Float64Array` (`data[run * tasks + task]`). The bootstrap hands its
 * statistic one of these per replication and reuses the same object for the next replication, so a statistic
 * must neither mutate `data` nor keep a reference to the matrix after it returns.
 */
export class ScoreMatrix {
  /** Lazily allocated buffer for sorting (reused across bootstrap replications). */
  private scratch: Float64Array | null = null;

  private constructor(
    /** Number of runs (rows). */
    readonly runs: number,
    /** Number of tasks (columns). */
    readonly tasks: number,
    /** The scores, row-major: `data[run * tasks + task]`. */
    readonly data: Float64Array,
  ) {}

  /**
   * Validates `scores` and copies it into a matrix; a ScoreMatrix is returned as it is. Throws a QttdmError,
   * naming `fn` and `arg`, for a non-array, no runs, a run with no tasks, runs with different task counts, or
   * a value that is not a finite number.
   */
  static from(scores: ScoresLike, fn = "ScoreMatrix.from", arg = "scores"): ScoreMatrix {
    if (scores instanceof ScoreMatrix) return scores;
    if (!Array.isArray(scores)) {
      throw new QttdmError(`${fn}: ${arg} must be an array of runs, each an array of per-task scores ([run][task]), got ${show(scores)}`);
    }
    const runs = scores.length;
    if (runs === 0) throw new QttdmError(`${fn}: ${arg} must have at least one run ([run][task]), got ${show(scores)}`);
    const first = scores[0];
    if (!isRow(first)) {
      throw new QttdmError(`${fn}: ${arg}[0] must be an array of per-task scores, got ${show(first)}`);
    }
    const tasks = first.length;
    if (tasks === 0) throw new QttdmError(`${fn}: ${arg}[0] must have at least one task score, got ${show(first)}`);
    const data = new Float64Array(runs * tasks);
    for (let r = 0; r < runs; r++) {
      const row = scores[r];
      if (!isRow(row)) throw new QttdmError(`${fn}: ${arg}[${r}] must be an array of per-task scores, got ${show(row)}`);
      if (row.length !== tasks) {
        throw new QttdmError(
          `${fn}: ${arg}[${r}] has ${row.length} task scores ${show(row)}, expected ${tasks} like ${arg}[0] (every run needs a score for every task)`,
        );
      }
      for (let t = 0; t < tasks; t++) {
        const v = row[t];
        if (typeof v !== "number" || !Number.isFinite(v)) {
          throw new QttdmError(`${fn}: ${arg}[${r}][${t}] is ${show(v)}, expected a finite number`);
        }
        data[r * tasks + t] = v;
      }
    }
    return new ScoreMatrix(runs, tasks, data);
  }

  /** A zero-filled matrix of the given shape (the bootstrap's resampling buffer). */
  static zeros(runs: number, tasks: number): ScoreMatrix {
    return new ScoreMatrix(runs, tasks, new Float64Array(runs * tasks));
  }

  /** Number of scores (runs × tasks). */
  get size(): number {
    return this.data.length;
  }

  /** The score of `run` on `task`. */
  at(run: number, task: number): number {
    return this.data[run * this.tasks + task]!;
  }

  /** The scores as a fresh `number[][]` (`[run][task]`). */
  toArray(): number[][] {
    const out: number[][] = [];
    for (let r = 0; r < this.runs; r++) out.push(Array.from(this.data.subarray(r * this.tasks, (r + 1) * this.tasks)));
    return out;
  }

  /** All scores sorted ascending, in a buffer owned by the matrix (valid until the next call). */
  sortedValues(): Float64Array {
    if (this.scratch === null) this.scratch = new Float64Array(this.data.length);
    this.scratch.set(this.data);
    return this.scratch.sort();
  }
}

function isRow(row: unknown): row is ArrayLike<number> {
  return Array.isArray(row) || (ArrayBuffer.isView(row) && !(row instanceof DataView));
}

// ---------------------------------------------------------------------------------------------------------
// Point statistics
// ---------------------------------------------------------------------------------------------------------

/** Mean of the central values of `sorted`: floor(n/4) dropped from each end (scipy's trim_mean at 0.25). */
function trimmedMeanSorted(sorted: Float64Array): number {
  const n = sorted.length;
  const cut = Math.floor(n / 4);
  let sum = 0;
  for (let i = cut; i < n - cut; i++) sum += sorted[i]!;
  return sum / (n - 2 * cut);
}

function medianSorted(sorted: Float64Array): number {
  const n = sorted.length;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function optimalityGapOf(data: Float64Array, gamma: number): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const d = gamma - data[i]!;
    if (d > 0) sum += d;
  }
  return sum / data.length;
}

function fractionAboveOf(data: Float64Array, tau: number): number {
  let count = 0;
  for (let i = 0; i < data.length; i++) if (data[i]! > tau) count++;
  return count / data.length;
}

function checkFinite(fn: string, arg: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) throw new QttdmError(`${fn}: ${arg} is ${show(value)}, expected a finite number`);
  return value;
}

/**
 * Interquartile mean (IQM): the 25% trimmed mean of all run × task scores pooled together, i.e.
 * `scipy.stats.trim_mean(scores, 0.25, axis=None)` as in rliable's `metrics.aggregate_iqm`. The n scores are
 * sorted, floor(n/4) are dropped from each end, and the rest are averaged (for n ≤ 3 nothing is dropped).
 */
export function iqm(scores: ScoresLike): number {
  return trimmedMeanSorted(ScoreMatrix.from(scores, "iqm").sortedValues());
}

/**
 * Mean of all run × task scores. rliable's `metrics.aggregate_mean` takes the mean over tasks of the per-task
 * means over runs, which is the same number because every task has the same number of runs.
 */
export function mean(scores: ScoresLike): number {
  return meanOfArray(ScoreMatrix.from(scores, "mean").data);
}

/**
 * Median of all run × task scores pooled together (for an even count, the average of the two middle values,
 * as numpy's median). Note that rliable's `metrics.aggregate_median` is instead the median over tasks of the
 * per-task mean scores (see {@link medianOfTaskMeans}); with one task that is just the mean over runs.
 */
export function median(scores: ScoresLike): number {
  return medianSorted(ScoreMatrix.from(scores, "median").sortedValues());
}

/**
 * rliable's `metrics.aggregate_median`: the median over tasks of each task's mean score over runs. With a
 * single task it equals {@link mean}; for the median of a single task's runs use {@link median}.
 */
export function medianOfTaskMeans(scores: ScoresLike): number {
  const m = ScoreMatrix.from(scores, "medianOfTaskMeans");
  const taskMeans = new Float64Array(m.tasks);
  for (let r = 0; r < m.runs; r++) for (let t = 0; t < m.tasks; t++) taskMeans[t]! += m.data[r * m.tasks + t]!;
  for (let t = 0; t < m.tasks; t++) taskMeans[t]! /= m.runs;
  return medianSorted(taskMeans.sort());
}

/**
 * Optimality gap: the mean over all run × task scores of max(gamma − x, 0), i.e. how far scores fall short of
 * the threshold `gamma`, scores above it counting as `gamma`. Same as rliable's
 * `metrics.aggregate_optimality_gap(scores, gamma)` (= gamma − mean(min(scores, gamma))); rliable's default
 * `gamma = 1` is meant for normalised scores, so pass the environment's threshold for raw returns.
 */
export function optimalityGap(scores: ScoresLike, gamma = 1): number {
  const m = ScoreMatrix.from(scores, "optimalityGap");
  return optimalityGapOf(m.data, checkFinite("optimalityGap", "gamma", gamma));
}

/**
 * Score distribution at `tau`: the fraction of all run × task scores strictly greater than `tau`
 * (rliable's `library.run_score_deviation`, i.e. `np.mean(scores > tau)`). One point of a performance profile.
 */
export function fractionAbove(scores: ScoresLike, tau: number): number {
  const m = ScoreMatrix.from(scores, "fractionAbove");
  return fractionAboveOf(m.data, checkFinite("fractionAbove", "tau", tau));
}

function probabilityOfImprovementOf(x: ScoreMatrix, y: ScoreMatrix): number {
  const T = x.tasks;
  const xd = x.data, yd = y.data;
  let total = 0;
  for (let t = 0; t < T; t++) {
    // Mann–Whitney U of x over y: pairs with x > y count 1, ties ½.
    let u = 0;
    for (let i = 0; i < x.runs; i++) {
      const xi = xd[i * T + t]!;
      for (let j = 0; j < y.runs; j++) {
        const yj = yd[j * T + t]!;
        if (xi > yj) u += 1;
        else if (xi === yj) u += 0.5;
      }
    }
    total += u / (x.runs * y.runs);
  }
  return total / T;
}

/**
 * Average probability of improvement of X over Y: for each task m, P(X_m > Y_m) + ½ P(X_m = Y_m) over all
 * pairs of an X run and a Y run, i.e. the Mann–Whitney U statistic of X's runs against Y's divided by
 * n_x · n_y, then averaged over tasks. Matches rliable's `metrics.probability_of_improvement` (scipy's
 * `mannwhitneyu(x, y, alternative='greater')` statistic over `num_runs_x * num_runs_y`; its special case of
 * identical columns, 0.5, is what the formula gives anyway). X and Y may have different numbers of runs but
 * need the same tasks. Costs O(n_x · n_y) per task.
 */
export function probabilityOfImprovement(x: ScoresLike, y: ScoresLike): number {
  const mx = ScoreMatrix.from(x, "probabilityOfImprovement", "x");
  const my = ScoreMatrix.from(y, "probabilityOfImprovement", "y");
  if (mx.tasks !== my.tasks) {
    throw new QttdmError(
      `probabilityOfImprovement: x has ${mx.tasks} tasks per run but y has ${my.tasks}, expected the same tasks in both (scores are [run][task])`,
    );
  }
  return probabilityOfImprovementOf(mx, my);
}

// ---------------------------------------------------------------------------------------------------------
// Stratified bootstrap
// ---------------------------------------------------------------------------------------------------------

interface CheckedOptions {
  reps: number;
  confidence: number;
  seed: number;
}

function checkOptions(fn: string, opts: BootstrapOptions): CheckedOptions {
  if (opts === null || typeof opts !== "object") {
    throw new QttdmError(`${fn}: options must be an object { reps?, confidence?, seed }, got ${show(opts)}`);
  }
  const { reps = 2000, confidence = 0.95, seed } = opts;
  if (typeof reps !== "number" || !Number.isSafeInteger(reps) || reps < 1) {
    throw new QttdmError(`${fn}: reps is ${show(reps)}, expected an integer >= 1 (number of bootstrap replications)`);
  }
  if (typeof confidence !== "number" || !(confidence > 0 && confidence < 1)) {
    throw new QttdmError(`${fn}: confidence is ${show(confidence)}, expected a number strictly between 0 and 1 (e.g. 0.95)`);
  }
  if (typeof seed !== "number" || !Number.isSafeInteger(seed)) {
    throw new QttdmError(`${fn}: seed is ${show(seed)}, expected an integer (the bootstrap must be seeded to be reproducible)`);
  }
  return { reps, confidence, seed };
}

/**
 * numpy's default (`linear`) percentile of an ascending array at fraction `q` ∈ [0, 1], including numpy's
 * two-sided lerp (`a + (b − a)·t` below t = ½, `b − (b − a)·(1 − t)` from ½ on).
 */
function percentileSorted(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const i = Math.floor(h);
  const t = h - i;
  const a = sorted[i]!;
  if (i + 1 >= sorted.length) return a;
  const b = sorted[i + 1]!;
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/**
 * The bootstrap shared by every public entry point: `evaluate` writes `k` statistics of the given matrices into
 * `out`; it is called once on the data (the point estimates) and once per replication on resampled copies,
 * where each matrix's runs are drawn with replacement independently within each task (the draws for
 * replication b are: matrix by matrix, run slot by run slot, task by task, `rng.integers(0, runs)`). Returns
 * the point estimates and the percentile interval of each statistic.
 */
function bootstrapCore(
  fn: string,
  mats: readonly ScoreMatrix[],
  k: number,
  evaluate: (ms: readonly ScoreMatrix[], out: Float64Array) => void,
  opts: CheckedOptions,
): Interval[] {
  const { reps, confidence, seed } = opts;
  const point = new Float64Array(k);
  evaluate(mats, point);
  for (let j = 0; j < k; j++) {
    if (!Number.isFinite(point[j]!)) throw new QttdmError(`${fn}: the statistic on the data is ${show(point[j])}, expected a finite number`);
  }
  const rng = new Rng(seed);
  const bufs = mats.map((m) => ScoreMatrix.zeros(m.runs, m.tasks));
  const stats = new Float64Array(k * reps); // column j holds statistic j of every replication
  const out = new Float64Array(k);
  for (let b = 0; b < reps; b++) {
    for (let i = 0; i < mats.length; i++) {
      const src = mats[i]!.data, dst = bufs[i]!.data;
      const runs = mats[i]!.runs, T = mats[i]!.tasks;
      for (let r = 0; r < runs; r++) {
        const row = r * T;
        for (let t = 0; t < T; t++) dst[row + t] = src[rng.integers(0, runs) * T + t]!;
      }
    }
    evaluate(bufs, out);
    for (let j = 0; j < k; j++) {
      const v = out[j]!;
      if (!Number.isFinite(v)) {
        throw new QttdmError(`${fn}: the statistic is ${show(v)} on bootstrap replication ${b}, expected a finite number`);
      }
      stats[j * reps + b] = v;
    }
  }
  const alpha = (1 - confidence) / 2;
  const result: Interval[] = [];
  for (let j = 0; j < k; j++) {
    const col = stats.subarray(j * reps, (j + 1) * reps).sort();
    result.push({ point: point[j]!, lo: percentileSorted(col, alpha), hi: percentileSorted(col, 1 - alpha) });
  }
  return result;
}

function callStatistic(fn: string, statistic: (...ms: ScoreMatrix[]) => number, ms: readonly ScoreMatrix[]): number {
  const v = statistic(...ms);
  if (typeof v !== "number") throw new QttdmError(`${fn}: the statistic returned ${show(v)}, expected a number`);
  return v;
}

/**
 * Stratified bootstrap percentile interval of `statistic` on `scores` (rliable's `StratifiedBootstrap` with
 * `get_interval_estimates(..., method='percentile')`, runs only, no task bootstrap): each of `reps`
 * replications resamples, for every task independently, `num_runs` runs with replacement, and evaluates
 * `statistic` on the resampled matrix; `lo`/`hi` are the (1 − confidence)/2 and (1 + confidence)/2
 * percentiles (numpy's linear interpolation) of those values and `point` is `statistic(scores)`. The
 * percentile interval need not contain `point` for every statistic and sample, as in rliable.
 *
 * `statistic` receives a {@link ScoreMatrix} that is reused between replications (do not keep or mutate it);
 * the exported statistics (`iqm`, `mean`, `median`, `optimalityGap`, …) can be passed directly.
 */
export function stratifiedBootstrap(scores: ScoresLike, statistic: (scores: ScoreMatrix) => number, opts: BootstrapOptions): Interval {
  const fn = "stratifiedBootstrap";
  const m = ScoreMatrix.from(scores, fn);
  if (typeof statistic !== "function") throw new QttdmError(`${fn}: statistic must be a function of the scores, got ${show(statistic)}`);
  const o = checkOptions(fn, opts);
  return bootstrapCore(fn, [m], 1, (ms, out) => (out[0] = callStatistic(fn, statistic as (...ms: ScoreMatrix[]) => number, ms)), o)[0]!;
}

/**
 * Stratified bootstrap of a statistic of several score matrices (one per algorithm/config), each resampled
 * on its own (rliable's `StratifiedIndependentBootstrap`, used for the probability of improvement): in each
 * replication every matrix gets its own stratified resample (runs with replacement within each task, with that
 * matrix's run count), then `statistic(...resampled)` is evaluated; the interval is the percentile interval
 * as in {@link stratifiedBootstrap}. The matrices may have different numbers of runs (and tasks, unless the
 * statistic needs them equal). Example: `stratifiedIndependentBootstrap([x, y], probabilityOfImprovement, { seed })`.
 */
export function stratifiedIndependentBootstrap(
  samples: readonly ScoresLike[],
  statistic: (...scores: ScoreMatrix[]) => number,
  opts: BootstrapOptions,
): Interval {
  const fn = "stratifiedIndependentBootstrap";
  if (!Array.isArray(samples) || samples.length === 0) {
    throw new QttdmError(`${fn}: samples must be a non-empty array of score matrices ([run][task], one per config), got ${show(samples)}`);
  }
  const ms = samples.map((s, i) => ScoreMatrix.from(s, fn, `samples[${i}]`));
  if (typeof statistic !== "function") throw new QttdmError(`${fn}: statistic must be a function of the score matrices, got ${show(statistic)}`);
  const o = checkOptions(fn, opts);
  return bootstrapCore(fn, ms, 1, (bs, out) => (out[0] = callStatistic(fn, statistic, bs)), o)[0]!;
}

/** A performance profile (score distribution) with its pointwise bootstrap band. */
export interface PerformanceProfile {
  /** The thresholds, as given. */
  taus: number[];
  /** `profile[i]` = fraction of run × task scores > `taus[i]`. */
  profile: number[];
  /** Lower ends of the pointwise percentile intervals. */
  lo: number[];
  /** Upper ends of the pointwise percentile intervals. */
  hi: number[];
}

/**
 * Performance profile as rliable's `create_performance_profile` with its default `use_score_distribution=True`:
 * for each `tau`, the fraction of all run × task scores strictly above `tau` ({@link fractionAbove}), with a
 * pointwise percentile band from the stratified bootstrap. All thresholds share the same resamples (as rliable
 * bootstraps the whole profile at once), so `lo[i]`/`hi[i]` equal
 * `stratifiedBootstrap(scores, s => fractionAbove(s, taus[i]), opts)` with the same options, and the band is
 * non-increasing in tau when the taus are increasing.
 */
export function performanceProfile(scores: ScoresLike, taus: readonly number[], opts: BootstrapOptions): PerformanceProfile {
  const fn = "performanceProfile";
  const m = ScoreMatrix.from(scores, fn);
  if (!Array.isArray(taus) || taus.length === 0) throw new QttdmError(`${fn}: taus must be a non-empty array of thresholds, got ${show(taus)}`);
  const ts = taus.map((t, i) => checkFinite(fn, `taus[${i}]`, t));
  const o = checkOptions(fn, opts);
  const k = ts.length;
  const res = bootstrapCore(fn, [m], k, (ms, out) => {
    const d = ms[0]!.data;
    for (let j = 0; j < k; j++) out[j] = fractionAboveOf(d, ts[j]!);
  }, o);
  return { taus: ts, profile: res.map((r) => r.point), lo: res.map((r) => r.lo), hi: res.map((r) => r.hi) };
}

/** Options of {@link aggregate}: the bootstrap's, plus the optimality-gap threshold. */
export interface AggregateOptions extends BootstrapOptions {
  /** Threshold of the optimality gap (default 1, rliable's default for normalised scores). */
  gamma?: number;
}

/** The four aggregate metrics of rliable's interval-estimate figures, each with its interval. */
export interface AggregateResult {
  iqm: Interval;
  mean: Interval;
  median: Interval;
  optimalityGap: Interval;
}

/**
 * IQM, mean, median (of all scores pooled, see {@link median}) and optimality gap at `gamma`, each with a
 * stratified-bootstrap percentile interval; the four come from the same resamples (as rliable's
 * `get_interval_estimates` with a function returning all four), so each equals `stratifiedBootstrap` of that
 * statistic with the same options.
 */
export function aggregate(scores: ScoresLike, opts: AggregateOptions): AggregateResult {
  const fn = "aggregate";
  const m = ScoreMatrix.from(scores, fn);
  const o = checkOptions(fn, opts);
  const gamma = checkFinite(fn, "gamma", opts.gamma ?? 1);
  const [iqmI, meanI, medianI, gapI] = bootstrapCore(fn, [m], 4, (ms, out) => {
    const mat = ms[0]!;
    const sorted = mat.sortedValues();
    out[0] = trimmedMeanSorted(sorted);
    out[1] = meanOfArray(mat.data);
    out[2] = medianSorted(sorted);
    out[3] = optimalityGapOf(mat.data, gamma);
  }, o);
  return { iqm: iqmI!, mean: meanI!, median: medianI!, optimalityGap: gapI! };
}
