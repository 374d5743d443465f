/**
 * The report's figures as hand-written SVG: line charts with confidence bands (and per-seed lines), interval
 * charts and strip charts. Hand-written rather than a bundled charting library: a figure here is a few lines
 * and bands, the whole module is smaller than any such library, and the same SVG string is the page's figure,
 * the `--format svg` file and the input of the PNG renderer, with nothing to load in the browser.
 * Every figure is self-contained (its own <style>); text uses generic font names so any renderer finds one.
 */

/** Okabe–Ito colours (distinguishable with colour-blindness), then two more. */
export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#882255", "#999999", "#44AA99"];

export interface Line {
  x: number[];
  y: number[];
}

export interface ChartSeries {
  name: string;
  color: string;
  line: Line;
  /** A confidence band around the line, on the same x. */
  band?: { lo: number[]; hi: number[] };
  /** Thin per-seed lines (shown in the page on demand). */
  seeds?: Line[];
}

export interface LineChartSpec {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  /** A dashed horizontal reference line (e.g. the env's reward threshold). */
  reference?: { y: number; label: string };
}

const W = 640;
const H = 360;
const M = { left: 70, right: 16, top: 58, bottom: 48 };
/** Height of one config's row in interval and strip charts. */
const ROW_HEIGHT = 30;
const FONT = `font-family="DejaVu Sans, Arial, Helvetica, sans-serif"`;

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** Round tick positions covering [lo, hi]: steps of 1, 2 or 5 × 10^k, about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return ticks;
}

/** 200000 → "200k", 1500000 → "1.5M", 0.25 → "0.25". */
export function formatNumber(v: number): string {
  const a = Math.abs(v);
  const trim = (s: string) => s.replace(/\.0+$|(\.\d*?)0+$/, "$1");
  if (a >= 1e6) return `${trim((v / 1e6).toFixed(2))}M`;
  if (a >= 1e4) return `${trim((v / 1e3).toFixed(1))}k`;
  if (a >= 100 || v === 0) return String(Math.round(v));
  return trim(v.toPrecision(3));
}

/** The extent of finite values, padded; a fallback for none. */
function extent(values: number[], pad = 0.05): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  const p = (hi - lo) * pad;
  return [lo - p, hi + p];
}

/** @param height the figure's height: row charts are as tall as their rows need */
function frame(id: string, title: string, body: string[], height = H): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" id="${escapeXml(id)}" class="figure" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${escapeXml(title)}">`,
    `<style>.seed{fill:none;stroke-width:0.7;opacity:0.45}.curve{fill:none;stroke-width:2}.band{stroke:none;opacity:0.18}.axis{stroke:#333;stroke-width:1}.grid{stroke:#ddd;stroke-width:0.6}</style>`,
    `<rect width="${W}" height="${height}" fill="#fff"/>`,
    `<text class="title" x="${M.left}" y="20" ${FONT} font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    ...body,
    "</svg>",
  ].join("\n");
}

interface Scale {
  x: (v: number) => number;
  y: (v: number) => number;
}

/** Axes with grid lines, tick labels and axis labels; returns the scale. */
function axes(body: string[], xr: [number, number], yr: [number, number], xLabel: string, yLabel: string): Scale {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const s: Scale = {
    x: (v) => M.left + ((v - xr[0]) / (xr[1] - xr[0])) * pw,
    y: (v) => M.top + ph - ((v - yr[0]) / (yr[1] - yr[0])) * ph,
  };
  const f = (v: number) => v.toFixed(1);
  for (const t of niceTicks(yr[0], yr[1])) {
    if (t < yr[0] || t > yr[1]) continue;
    body.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${f(s.y(t))}" y2="${f(s.y(t))}"/>`);
    body.push(`<text class="tick" x="${M.left - 6}" y="${f(s.y(t) + 4)}" text-anchor="end" ${FONT} font-size="11">${formatNumber(t)}</text>`);
  }
  for (const t of niceTicks(xr[0], xr[1], 6)) {
    if (t < xr[0] || t > xr[1]) continue;
    body.push(`<line class="axis" x1="${f(s.x(t))}" x2="${f(s.x(t))}" y1="${M.top + ph}" y2="${M.top + ph + 4}"/>`);
    body.push(`<text class="tick" x="${f(s.x(t))}" y="${M.top + ph + 17}" text-anchor="middle" ${FONT} font-size="11">${formatNumber(t)}</text>`);
  }
  body.push(`<line class="axis" x1="${M.left}" x2="${W - M.right}" y1="${M.top + ph}" y2="${M.top + ph}"/>`);
  body.push(`<line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}"/>`);
  body.push(`<text class="xlabel" x="${M.left + pw / 2}" y="${H - 8}" text-anchor="middle" ${FONT} font-size="12">${escapeXml(xLabel)}</text>`);
  body.push(`<text class="ylabel" transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle" ${FONT} font-size="12">${escapeXml(yLabel)}</text>`);
  return s;
}

/** One row of swatches and names under the title. */
function legend(body: string[], items: { name: string; color: string }[]): void {
  let x = M.left;
  let y = 40;
  for (const it of items) {
    const width = 26 + Math.min(it.name.length, 40) * 6.4;
    if (x + width > W - M.right && x > M.left) {
      x = M.left;
      y += 14;
    }
    body.push(`<g class="legend-item"><rect x="${x}" y="${y - 8}" width="14" height="4" fill="${it.color}"/><text x="${x + 18}" y="${y - 3}" ${FONT} font-size="11">${escapeXml(it.name.slice(0, 40))}</text></g>`);
    x += width;
  }
}

function path(s: Scale, xs: number[], ys: number[]): string {
  const parts: string[] = [];
  let pen = "M";
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(ys[i]!) || !Number.isFinite(xs[i]!)) {
      pen = "M";
      continue;
    }
    parts.push(`${pen}${s.x(xs[i]!).toFixed(1)},${s.y(ys[i]!).toFixed(1)}`);
    pen = "L";
  }
  return parts.join("");
}

export function lineChart(spec: LineChartSpec): string {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of spec.series) {
    xs.push(...s.line.x);
    ys.push(...s.line.y, ...(s.band?.lo ?? []), ...(s.band?.hi ?? []));
    for (const seed of s.seeds ?? []) {
      xs.push(...seed.x);
      ys.push(...seed.y);
    }
  }
  if (spec.reference) ys.push(spec.reference.y);
  const body: string[] = [];
  const [x0, x1] = extent(xs, 0);
  const sc = axes(body, [Math.min(0, x0), x1], extent(ys), spec.xLabel, spec.yLabel);
  if (spec.reference) {
    const y = sc.y(spec.reference.y).toFixed(1);
    body.push(`<line class="reference" x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" stroke="#555" stroke-dasharray="5 4"/>`);
    body.push(`<text x="${W - M.right - 4}" y="${Number(y) - 4}" text-anchor="end" ${FONT} font-size="10" fill="#555">${escapeXml(spec.reference.label)}</text>`);
  }
  spec.series.forEach((s) => {
    const name = escapeXml(s.name);
    if (s.band) {
      const top = path(sc, s.line.x, s.band.hi);
      const bottom = path(sc, [...s.line.x].reverse(), [...s.band.lo].reverse()).replace(/^M/, "L");
      if (top) body.push(`<path class="band" data-series="${name}" fill="${s.color}" d="${top}${bottom}Z"/>`);
    }
    for (const seed of s.seeds ?? []) body.push(`<path class="seed" data-series="${name}" stroke="${s.color}" d="${path(sc, seed.x, seed.y)}"/>`);
    body.push(`<path class="curve" data-series="${name}" stroke="${s.color}" d="${path(sc, s.line.x, s.line.y)}"/>`);
  });
  legend(body, spec.series);
  return frame(spec.id, spec.title, body);
}

export interface IntervalRow {
  name: string;
  color: string;
  point: number;
  lo: number;
  hi: number;
}

/**
 * Point estimates with their intervals, one row per config, in side-by-side panels (e.g. IQM, mean, median,
 * optimality gap), as rliable's aggregate plots.
 */
export function intervalChart(spec: { id: string; title: string; panels: { label: string; rows: IntervalRow[] }[] }): string {
  const body: string[] = [];
  const names = spec.panels[0]?.rows.map((r) => r.name) ?? [];
  const nameWidth = Math.min(200, 12 + Math.max(0, ...names.map((n) => n.length)) * 6.2);
  const gap = 14;
  const pw = (W - nameWidth - M.right - gap * (spec.panels.length - 1)) / Math.max(1, spec.panels.length);
  const rowH = ROW_HEIGHT;
  names.forEach((n, i) => {
    body.push(`<text x="${nameWidth - 8}" y="${(M.top + rowH * (i + 0.5) + 4).toFixed(1)}" text-anchor="end" ${FONT} font-size="11">${escapeXml(n.slice(0, 32))}</text>`);
  });
  const bottom = M.top + rowH * names.length;
  spec.panels.forEach((panel, p) => {
    const left = nameWidth + p * (pw + gap);
    const [lo, hi] = extent(panel.rows.flatMap((r) => [r.lo, r.hi, r.point]), 0.1);
    const x = (v: number) => left + ((v - lo) / (hi - lo)) * pw;
    body.push(`<rect x="${left}" y="${M.top}" width="${pw.toFixed(1)}" height="${(bottom - M.top).toFixed(1)}" fill="none" stroke="#ccc"/>`);
    for (const t of niceTicks(lo, hi, 3)) {
      if (t < lo || t > hi) continue;
      body.push(`<line class="grid" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${M.top}" y2="${bottom.toFixed(1)}"/>`);
      body.push(`<text class="tick" x="${x(t).toFixed(1)}" y="${(bottom + 15).toFixed(1)}" text-anchor="middle" ${FONT} font-size="10">${formatNumber(t)}</text>`);
    }
    body.push(`<text class="xlabel" x="${(left + pw / 2).toFixed(1)}" y="${(bottom + 32).toFixed(1)}" text-anchor="middle" ${FONT} font-size="12">${escapeXml(panel.label)}</text>`);
    panel.rows.forEach((r, i) => {
      const y = (M.top + rowH * (i + 0.5)).toFixed(1);
      if ([r.lo, r.hi].every(Number.isFinite)) {
        body.push(`<rect class="interval" data-series="${escapeXml(r.name)}" x="${x(r.lo).toFixed(1)}" y="${Number(y) - 6}" width="${Math.max(1, x(r.hi) - x(r.lo)).toFixed(1)}" height="12" fill="${r.color}" opacity="0.35"/>`);
      }
      if (Number.isFinite(r.point)) body.push(`<line class="point" x1="${x(r.point).toFixed(1)}" x2="${x(r.point).toFixed(1)}" y1="${Number(y) - 8}" y2="${Number(y) + 8}" stroke="${r.color}" stroke-width="2.5"/>`);
    });
  });
  return frame(spec.id, spec.title, body, bottom + 44);
}

/**
 * One value per seed and config on a shared axis (e.g. steps to the reward threshold); a null value is censored:
 * drawn hollow at the axis end, labelled "not reached".
 */
export function stripChart(spec: { id: string; title: string; xLabel: string; max: number; rows: { name: string; color: string; values: (number | null)[] }[] }): string {
  const body: string[] = [];
  const nameWidth = Math.min(200, 12 + Math.max(0, ...spec.rows.map((r) => r.name.length)) * 6.2);
  const left = nameWidth;
  const pw = W - left - M.right - 70;
  const rowH = ROW_HEIGHT;
  const x = (v: number) => left + (v / spec.max) * pw;
  const bottom = M.top + rowH * spec.rows.length;
  for (const t of niceTicks(0, spec.max, 6)) {
    body.push(`<line class="grid" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${M.top}" y2="${bottom.toFixed(1)}"/>`);
    body.push(`<text class="tick" x="${x(t).toFixed(1)}" y="${(bottom + 15).toFixed(1)}" text-anchor="middle" ${FONT} font-size="10">${formatNumber(t)}</text>`);
  }
  body.push(`<text x="${(x(spec.max) + 8).toFixed(1)}" y="${M.top - 6}" ${FONT} font-size="10" fill="#555">not reached</text>`);
  body.push(`<text class="xlabel" x="${(left + pw / 2).toFixed(1)}" y="${(bottom + 32).toFixed(1)}" text-anchor="middle" ${FONT} font-size="12">${escapeXml(spec.xLabel)}</text>`);
  spec.rows.forEach((r, i) => {
    const y = M.top + rowH * (i + 0.5);
    body.push(`<text x="${nameWidth - 8}" y="${(y + 4).toFixed(1)}" text-anchor="end" ${FONT} font-size="11">${escapeXml(r.name.slice(0, 32))}</text>`);
    r.values.forEach((v, k) => {
      const jitter = ((k % 5) - 2) * 2.2;
      if (v === null) body.push(`<circle class="censored" data-series="${escapeXml(r.name)}" cx="${(x(spec.max) + 30).toFixed(1)}" cy="${(y + jitter).toFixed(1)}" r="4" fill="none" stroke="${r.color}"/>`);
      else body.push(`<circle class="value" data-series="${escapeXml(r.name)}" cx="${x(v).toFixed(1)}" cy="${(y + jitter).toFixed(1)}" r="4" fill="${r.color}" opacity="0.8"/>`);
    });
  });
  return frame(spec.id, spec.title, body, bottom + 44);
}
