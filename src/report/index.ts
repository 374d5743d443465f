/**
 * `qttdm report`: read runs (report/runs.ts), compute the statistics and figures (report/build.ts), write one
 * self-contained HTML page (report/page.ts) and, on request, each figure as SVG or PNG for papers.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, extname, join } from "node:path";
import { QttdmError, fileSystemError } from "../core/errors.js";
import { buildReport, type Report, type ReportOptions } from "./build.js";
import { reportHtml } from "./page.js";
import { loadReportData } from "./runs.js";

export type FigureFormat = "svg" | "png";

export interface WriteReportOptions extends ReportOptions {
  /** The HTML file to write. */
  out: string;
  /** Also write every figure in this format into `<out without .html>-figures/`. */
  format?: FigureFormat;
}

/** The font the figures name first; PNG rendering needs it (Debian: fonts-dejavu-core). */
const FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/TTF", "/usr/local/share/fonts"];

interface ResvgModule {
  Resvg: new (svg: string, opts: object) => { render(): { asPng(): Uint8Array } };
}

/** An SVG figure as PNG at `scale` (2: 1280 px wide, sharp at a paper's column width). */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  let resvg: ResvgModule;
  try {
    resvg = createRequire(import.meta.url)("@resvg/resvg-js") as ResvgModule;
  } catch (e) {
    throw new QttdmError(`report --format png: the SVG renderer @resvg/resvg-js could not be loaded (${(e as Error).message.split("\n")[0]}); use --format svg`);
  }
  const fontDirs = FONT_DIRS.filter((d) => existsSync(d));
  return new resvg.Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    font: { loadSystemFonts: true, fontDirs, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
  }).render().asPng();
}

/** Writes the report for the runs under `paths`; returns it with the paths written. */
export function writeReport(paths: readonly string[], opts: WriteReportOptions): { report: Report; files: string[] } {
  if (existsSync(opts.out) && statSync(opts.out).isDirectory()) throw new QttdmError(`report: --out ${opts.out} is a directory; expected an .html file path`);
  const report = buildReport(loadReportData(paths), opts);
  const files: string[] = [];
  const write = (file: string, data: string | Uint8Array) => {
    try {
      writeFileSync(file, data);
    } catch (e) {
      throw fileSystemError(e, `the report file ${file}`);
    }
    files.push(file);
  };
  mkdirSync(dirname(opts.out), { recursive: true });
  write(opts.out, reportHtml(report));
  if (opts.format) {
    const dir = join(dirname(opts.out), `${basename(opts.out, extname(opts.out))}-figures`);
    mkdirSync(dir, { recursive: true });
    for (const f of report.figures) write(join(dir, `${f.id}.${opts.format}`), opts.format === "svg" ? f.svg : svgToPng(f.svg));
  }
  return { report, files };
}
