/**
 * A comparison report: statistics over seeds (report/stats.ts, rliable's definitions) and the figures and tables
 * that show them. Per config, a run's score is the mean of its last 5 evaluations (as compare's summary); curves
 * are the IQM over seeds at each evaluation step with a 95% stratified-bootstrap band; the first config, or the
 * one named as baseline, is what the probability of improvement compares against.
 */
import { QttdmError } from "../core/errors.js";
import { configDiff, type ReportData, type RunGroup, type Series } from "./runs.js";
import { aggregate, iqm, probabilityOfImprovement, stratifiedBootstrap, stratifiedIndependentBootstrap, performanceProfile, type Interval } from "./stats.js";
import { intervalChart, lineChart, PALETTE, stripChart, type ChartSeries } from "./svg.js";

export interface ReportOptions {
  /** The label of the config the others are compared with (default: the first). */
  baseline?: string;
  /** Bootstrap replications (default 2000 for the final scores, a quarter of it per curve point). */
  reps?: number;
  /** Seed of the bootstrap (reports are reproducible). */
  seed?: number;
}

export interface Figure {
  id: string;
  title: string;
  svg: string;
}

export interface Table {
  title: string;
  header: string[];
  rows: string[][];
  note?: string;
}

export interface Report {
  title: string;
  env: string;
  threshold: number | null;
  baseline: string;
  groups: { label: string; color: string; seeds: number[] }[];
  figures: Figure[];
  tables: Table[];
  commands: string[];
  warnings: string[];
}

/** Evaluations averaged into a run's final score, as compare's summary. */
const FINAL_EVALS = 5;
/** Bins of the smoothed training-return curve over a run's steps. */
const RETURN_BINS = 40;
/** The training scalars shown per config when present: losses, replay, DISRC and cost. */
const SCALAR_PANELS: { tag: string; title: string }[] = [
  { tag: "losses/td_loss", title: "TD loss (the agent's main critic)" },
  { tag: "critic/td_loss", title: "Critic TD loss" },
  { tag: "qt/td_loss", title: "Q-Transformer TD loss" },
  { tag: "tdm/loss", title: "TDM loss" },
  { tag: "replay/alpha", title: "Replay α (prioritisation)" },
  { tag: "replay/beta", title: "Replay β (IS correction / reliability anneal)" },
  { tag: "replay/reliability_mean", title: "Mean reliability of sampled transitions" },
  { tag: "disrc/surprise_mean", title: "DISRC surprise (mean)" },
  { tag: "charts/SPS", title: "Env steps per second" },
  { tag: "planner/ms_per_action", title: "Planning ms per action" },
];

const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : "–");
const fmtInterval = (i: Interval, digits = 1) => `${fmt(i.point, digits)} [${fmt(i.lo, digits)}, ${fmt(i.hi, digits)}]`;
const column = (xs: readonly number[]) => xs.map((x) => [x]);

/** Mean of a run's last evaluations (NaN when it has none). */
function finalScore(values: number[]): number {
  const last = values.slice(-FINAL_EVALS);
  return last.length ? last.reduce((a, b) => a + b, 0) / last.length : Number.NaN;
}

/**
 * IQM over seeds at each step where at least one seed logged, with a bootstrap band where two or more did.
 * @param at per seed its series
 */
function iqmCurve(at: Series[], reps: number, seed: number, band: boolean): { x: number[]; y: number[]; lo: number[]; hi: number[] } {
  const steps = [...new Set(at.flatMap((s) => s.step))].sort((a, b) => a - b);
  const index = at.map((s) => new Map(s.step.map((st, i) => [st, s.value[i]!])));
  const x: number[] = [];
  const y: number[] = [];
  const lo: number[] = [];
  const hi: number[] = [];
  for (const step of steps) {
    const vals = index.map((m) => m.get(step)).filter((v): v is number => v !== undefined && Number.isFinite(v));
    if (vals.length === 0) continue;
    x.push(step);
    if (band && vals.length > 1) {
      const ci = stratifiedBootstrap(column(vals), iqm, { reps, seed: seed + x.length });
      y.push(ci.point);
      lo.push(ci.lo);
      hi.push(ci.hi);
    } else {
      const v = iqm(column(vals));
      y.push(v);
      lo.push(v);
      hi.push(v);
    }
  }
  return { x, y, lo, hi };
}

/** Training returns binned over [0, total] by episode end step: the mean return of each bin's episodes. */
function binnedReturns(r: Series, total: number): Series {
  const width = Math.max(1, total / RETURN_BINS);
  const sums = new Float64Array(RETURN_BINS + 1);
  const counts = new Float64Array(RETURN_BINS + 1);
  r.step.forEach((s, i) => {
    const b = Math.min(RETURN_BINS, Math.floor(s / width));
    sums[b] += r.value[i]!;
    counts[b]! += 1;
  });
  const out: Series = { step: [], value: [] };
  for (let b = 0; b <= RETURN_BINS; b++) {
    if (counts[b]! > 0) {
      out.step.push(Math.min(total, (b + 0.5) * width));
      out.value.push(sums[b]! / counts[b]!);
    }
  }
  return out;
}

function variance(xs: number[]): number {
  if (xs.length < 2) return Number.NaN;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
}

/**
 * The group `baseline` names: its label, or a part of one label only (disambiguated labels get long, e.g.
 * `replay.schedule="fixed"` picks one of several dqn-reaper variants).
 */
function findBaseline(groups: readonly RunGroup[], baseline: string | undefined): number {
  if (baseline === undefined) return 0;
  const exact = groups.findIndex((g) => g.label === baseline);
  if (exact >= 0) return exact;
  const labels = (gs: readonly RunGroup[]) => gs.map((g) => JSON.stringify(g.label)).join(", ");
  const partial = groups.filter((g) => g.label.includes(baseline));
  if (partial.length === 1) return groups.indexOf(partial[0]!);
  if (partial.length > 1) {
    throw new QttdmError(`report: --baseline ${JSON.stringify(baseline)} is part of ${partial.length} configs' labels (${labels(partial)}); expected one config's label or a part of one label only`);
  }
  throw new QttdmError(`report: --baseline ${JSON.stringify(baseline)} is not one of the configs (${labels(groups)}) nor part of one's label`);
}

export function buildReport(data: ReportData, opts: ReportOptions = {}): Report {
  const reps = opts.reps ?? 2000;
  const seed = opts.seed ?? 0;
  const curveReps = Math.max(1, Math.floor(reps / 4));
  const groups = data.groups;
  const color = (i: number) => PALETTE[i % PALETTE.length]!;
  const baselineIndex = findBaseline(groups, opts.baseline);
  const baseline = groups[baselineIndex]!;
  const figures: Figure[] = [];
  const tables: Table[] = [];
  const warnings = [...data.warnings];
  const threshold = data.threshold;
  const thresholdRef = threshold !== null ? { y: threshold, label: `threshold ${threshold}` } : undefined;

  // Learning curves: against env steps, and against training seconds (x = the seeds' median seconds at each eval).
  const evalSeries = (g: RunGroup) => g.runs.map((r) => ({ step: r.evals.step, value: r.evals.value }));
  const curves = groups.map((g, i) => iqmCurve(evalSeries(g), curveReps, seed + 7919 * i, true));
  figures.push({
    id: "eval-vs-steps",
    title: "Evaluation return vs env steps",
    svg: lineChart({
      id: "eval-vs-steps",
      title: "Evaluation return (IQM over seeds, 95% CI)",
      xLabel: "env steps",
      yLabel: "episodic return",
      reference: thresholdRef,
      series: groups.map((g, i) => ({
        name: g.label,
        color: color(i),
        line: { x: curves[i]!.x, y: curves[i]!.y },
        band: { lo: curves[i]!.lo, hi: curves[i]!.hi },
        seeds: g.runs.map((r) => ({ x: r.evals.step, y: r.evals.value })),
      })),
    }),
  });
  const secondsAt = (g: RunGroup, steps: number[]) =>
    steps.map((st) => {
      const s = g.runs.map((r) => r.evals.seconds[r.evals.step.indexOf(st)]).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
      return s.length ? s[Math.floor((s.length - 1) / 2)]! : Number.NaN;
    });
  figures.push({
    id: "eval-vs-seconds",
    title: "Evaluation return vs training seconds",
    svg: lineChart({
      id: "eval-vs-seconds",
      title: "Evaluation return vs wall-clock (IQM, 95% CI; x: median seconds over seeds)",
      xLabel: "training seconds",
      yLabel: "episodic return",
      reference: thresholdRef,
      series: groups.map((g, i) => ({
        name: g.label,
        color: color(i),
        line: { x: secondsAt(g, curves[i]!.x), y: curves[i]!.y },
        band: { lo: curves[i]!.lo, hi: curves[i]!.hi },
        seeds: g.runs.map((r) => ({ x: r.evals.seconds, y: r.evals.value })),
      })),
    }),
  });
  const returnSeries = groups.map((g) => g.runs.map((r) => binnedReturns(r.returns, g.config.experiment.totalSteps)));
  const returnCurves = returnSeries.map((s, i) => iqmCurve(s, curveReps, seed + 104729 * (i + 1), true));
  figures.push({
    id: "train-return",
    title: "Training return",
    svg: lineChart({
      id: "train-return",
      title: `Training return (per-seed means in ${RETURN_BINS} bins; IQM, 95% CI)`,
      xLabel: "env steps",
      yLabel: "episodic return (exploring)",
      series: groups.map((g, i) => ({
        name: g.label,
        color: color(i),
        line: { x: returnCurves[i]!.x, y: returnCurves[i]!.y },
        band: { lo: returnCurves[i]!.lo, hi: returnCurves[i]!.hi },
        seeds: returnSeries[i]!.map((s) => ({ x: s.step, y: s.value })),
      })),
    }),
  });

  // Final performance: rliable's aggregate metrics over the seeds' final scores, and the probability of improvement.
  const finals = groups.map((g) => g.runs.map((r) => finalScore(r.evals.value)).filter(Number.isFinite));
  const scored = groups.map((g, i) => ({ g, i, scores: finals[i]! })).filter((s) => s.scores.length > 0);
  for (const g of groups) if (!scored.some((s) => s.g === g)) warnings.push(`${g.label} has no evaluation yet: it is left out of the final-performance statistics`);
  const gamma = threshold ?? Math.max(...finals.flat(), 0);
  const section = { groups, baselineIndex, reps, seed, gamma, color };
  scoreStatistics(section, { id: "final", title: "Final performance", what: `Final return (mean of the last ${FINAL_EVALS} evals per seed)`, scores: finals }, figures, tables);
  const heldOut = groups.map((g) => g.runs.flatMap((r) => (r.heldOut ? [r.heldOut.mean] : [])));
  if (heldOut.some((h) => h.length > 0)) {
    const h = groups.flatMap((g) => g.runs).find((r) => r.heldOut)!.heldOut!;
    const what = `Held-out return (the final policy's mean over ${h.episodes} episodes from seed ${h.seed}, per seed)`;
    scoreStatistics({ ...section, seed: seed + 1009 }, { id: "held-out", title: "Held-out evaluation", what, scores: heldOut }, figures, tables);
  }

  // Performance profile over the final scores.
  if (scored.length) {
    const all = finals.flat();
    const lo = Math.min(...all);
    const hi = Math.max(...all);
    const taus = Array.from({ length: 41 }, (_, k) => lo + ((hi - lo) * k) / 40);
    figures.push({
      id: "profile",
      title: "Performance profile",
      svg: lineChart({
        id: "profile",
        title: "Performance profile: fraction of seeds with final return > τ (95% CI)",
        xLabel: "τ (final return)",
        yLabel: "fraction of seeds",
        reference: { y: 0.5, label: "half the seeds" },
        series: scored.map((s) => {
          const p = performanceProfile(column(s.scores), taus, { reps: curveReps, seed: seed + 53 * s.i });
          return { name: s.g.label, color: color(s.i), line: { x: taus, y: p.profile }, band: { lo: p.lo, hi: p.hi } } satisfies ChartSeries;
        }),
      }),
    });
  }

  // Sample efficiency: steps to the first evaluation at or above the threshold, censored where never reached.
  if (threshold !== null) {
    const reach = groups.map((g) => g.runs.map((r) => r.evals.step[r.evals.value.findIndex((v) => v >= threshold)] ?? null));
    const maxSteps = Math.max(...groups.map((g) => g.config.experiment.totalSteps));
    figures.push({
      id: "sample-efficiency",
      title: "Sample efficiency",
      svg: stripChart({
        id: "sample-efficiency",
        title: `Env steps to the first eval ≥ ${threshold}, per seed`,
        xLabel: "env steps",
        max: maxSteps,
        rows: groups.map((g, i) => ({ name: g.label, color: color(i), values: reach[i]! })),
      }),
    });
    tables.push({
      title: `Sample efficiency (first eval ≥ ${threshold})`,
      header: ["config", "seeds reaching it", "median steps (censored: never reached counts as slowest)", "per seed"],
      rows: groups.map((g, i) => {
        const r = reach[i]!;
        const sorted = r.map((v) => v ?? Infinity).sort((a, b) => a - b);
        const med = sorted[Math.floor((sorted.length - 1) / 2)]!;
        return [g.label, `${r.filter((v) => v !== null).length}/${r.length}`, Number.isFinite(med) ? String(med) : "not reached", r.map((v) => (v === null ? "–" : String(v))).join(", ")];
      }),
    });
  }

  // Stability.
  tables.push({
    title: "Stability",
    header: ["config", "second-half training-return variance: IQM over seeds [95% CI]", "std of the last 10 evals: IQM over seeds [95% CI]"],
    rows: groups.map((g, i) => {
      const late = g.runs.map((r) => variance(r.returns.value.filter((_, k) => r.returns.step[k]! > g.config.experiment.totalSteps / 2))).filter(Number.isFinite);
      const evalStd = g.runs.map((r) => Math.sqrt(variance(r.evals.value.slice(-10)))).filter(Number.isFinite);
      const ci = (xs: number[], k: number) => (xs.length ? fmtInterval(stratifiedBootstrap(column(xs), iqm, { reps, seed: seed + k }), 1) : "–");
      return [g.label, ci(late, 211 * i + 1), ci(evalStd, 211 * i + 2)];
    }),
    note: "Lower is steadier. The variance is over the episodes ending after half the run's steps; the std over each seed's last 10 evaluations.",
  });

  // Losses, replay and cost over training, where the configs log them.
  for (const panel of SCALAR_PANELS) {
    const present = groups.map((g) => g.runs.map((r) => r.scalars.get(panel.tag)).filter((s): s is Series => s !== undefined));
    if (present.every((p) => p.length === 0)) continue;
    figures.push({
      id: `scalar-${panel.tag.replace(/\W/g, "-")}`,
      title: panel.title,
      svg: lineChart({
        id: `scalar-${panel.tag.replace(/\W/g, "-")}`,
        title: `${panel.title} (${panel.tag}; IQM over seeds)`,
        xLabel: "env steps",
        yLabel: panel.tag,
        series: groups
          .map((g, i) => ({ g, i, c: iqmCurve(present[i]!, 1, 0, false) }))
          .filter(({ c }) => c.x.length > 0)
          .map(({ g, i, c }) => ({ name: g.label, color: color(i), line: { x: c.x, y: c.y }, seeds: present[i]!.map((s) => ({ x: s.step, y: s.value })) })),
      }),
    });
  }
  tables.push({
    title: "Cost",
    header: ["config", "training seconds per run (median)", "env steps/s (median of the logged rates)", "planning ms per action"],
    rows: groups.map((g) => {
      const med = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]! : Number.NaN);
      const last = (tag: string) => g.runs.map((r) => r.scalars.get(tag)?.value.at(-1)).filter((v): v is number => v !== undefined);
      const sps = g.runs.flatMap((r) => r.scalars.get("charts/SPS")?.value ?? []);
      const plan = g.runs.flatMap((r) => r.scalars.get("planner/ms_per_action")?.value ?? []);
      return [g.label, fmt(med(last("charts/train_seconds")), 0), fmt(med(sps), 1), plan.length ? fmt(med(plan), 1) : "–"];
    }),
  });

  const diff = configDiff(groups);
  if (groups.length > 1) {
    tables.push({
      title: "How the configs differ",
      header: ["key", ...groups.map((g) => g.label)],
      rows: diff.map((d) => [d.key, ...d.values]),
      note: diff.length === 0 ? "The configs resolve to the same values apart from seeds and output places." : "Resolved configs, seeds and output places (runsDir, logging, checkpoints) aside.",
    });
  }

  return {
    title: `${data.env}: ${groups.map((g) => g.label).join(" vs ")}`,
    env: data.env,
    threshold,
    baseline: baseline.label,
    groups: groups.map((g, i) => ({ label: g.label, color: color(i), seeds: g.runs.map((r) => r.seed) })),
    figures,
    tables,
    commands: data.commands,
    warnings,
  };
}

function formatGamma(g: number): string {
  return Number.isInteger(g) ? String(g) : g.toFixed(1);
}

interface SectionContext {
  groups: readonly RunGroup[];
  baselineIndex: number;
  reps: number;
  seed: number;
  gamma: number;
  color: (i: number) => string;
}

/**
 * One score per seed and config (`scores`, in group order): rliable's aggregates with CIs as a figure and a table,
 * and each config's probability of improvement over the baseline.
 */
function scoreStatistics(ctx: SectionContext, score: { id: string; title: string; what: string; scores: number[][] }, figures: Figure[], tables: Table[]): void {
  const { groups, baselineIndex, reps, seed, gamma, color } = ctx;
  const scored = groups.map((g, i) => ({ g, i, scores: score.scores[i]! })).filter((s) => s.scores.length > 0);
  if (scored.length === 0) return;
  const aggs = scored.map((s) => aggregate(column(s.scores), { reps, seed: seed + 31 * s.i, gamma }));
  const rows = (pick: (a: (typeof aggs)[number]) => Interval) => scored.map((s, k) => ({ name: s.g.label, color: color(s.i), ...pick(aggs[k]!) }));
  figures.push({
    id: score.id,
    title: score.title,
    svg: intervalChart({
      id: score.id,
      title: `${score.what}, 95% CIs`,
      panels: [
        { label: "IQM", rows: rows((a) => a.iqm) },
        { label: "Mean", rows: rows((a) => a.mean) },
        { label: "Median", rows: rows((a) => a.median) },
        { label: `Optimality gap (γ=${formatGamma(gamma)})`, rows: rows((a) => a.optimalityGap) },
      ],
    }),
  });
  tables.push({
    title: score.title,
    header: ["config", "seeds", "IQM [95% CI]", "mean [95% CI]", "median [95% CI]", `optimality gap (γ=${formatGamma(gamma)})`, "per seed"],
    rows: scored.map((s, k) => [s.g.label, String(s.scores.length), fmtInterval(aggs[k]!.iqm), fmtInterval(aggs[k]!.mean), fmtInterval(aggs[k]!.median), fmtInterval(aggs[k]!.optimalityGap), s.scores.map((v) => fmt(v)).join(", ")]),
    note: `${score.what}. Stratified bootstrap (${reps} resamples, seed ${seed}), percentile intervals. Two configs differ significantly on a metric only where their intervals do not overlap; overlapping intervals are "not significant" at this number of seeds.`,
  });

  const base = score.scores[baselineIndex]!;
  const others = scored.filter((s) => s.i !== baselineIndex);
  if (!base.length || !others.length) return;
  const baseline = groups[baselineIndex]!.label;
  const poi = others.map((s) => stratifiedIndependentBootstrap([column(s.scores), column(base)], probabilityOfImprovement, { reps, seed: seed + 17 * s.i }));
  const verdict = (i: Interval) => (i.lo > 0.5 ? "better (CI above 0.5)" : i.hi < 0.5 ? "worse (CI below 0.5)" : "not significant (CI contains 0.5)");
  // The final score's section keeps the names it had before there were others.
  const main = score.id === "final";
  const suffix = main ? "" : ` (${score.title.toLowerCase()})`;
  const id = main ? "improvement" : `improvement-${score.id}`;
  figures.push({
    id,
    title: `Probability of improvement${suffix}`,
    svg: intervalChart({
      id,
      title: `P(config > ${baseline}) on ${score.what.charAt(0).toLowerCase()}${score.what.slice(1)}, 95% CIs`,
      panels: [{ label: `probability of improvement over ${baseline}`, rows: others.map((s, k) => ({ name: s.g.label, color: color(s.i), ...poi[k]! })) }],
    }),
  });
  tables.push({
    title: `Probability of improvement over ${baseline}${suffix}`,
    header: ["config", "P(X > baseline) [95% CI]", "verdict"],
    rows: others.map((s, k) => [s.g.label, fmtInterval(poi[k]!, 2), verdict(poi[k]!)]),
    note: "Mann–Whitney: the probability that a seed of the config beats a seed of the baseline (ties count half), with an independent stratified bootstrap of both.",
  });
}
