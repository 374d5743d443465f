// The report as a reader sees it: real runs, the real report.html, opened in headless Chromium (the system's
// browser, driven by puppeteer-core) and checked through the DOM, the computed styles and a screenshot.
// Skipped where no Chromium is installed; CI (.ci/run) installs Debian's `chromium`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import type { Report } from "../../src/report/build.js";
import { writeReport } from "../../src/report/index.js";
import { train } from "../../src/train/trainer.js";
import { closeChromium, findChromium, launchChromium } from "../helpers/chromium.js";

const chromium = findChromium();
const SKIP_REASON = "skipped: no chromium, chromium-browser or google-chrome on PATH (Debian: apt-get install chromium)";
if (!chromium) process.stderr.write(`test/report/browser.test.ts ${SKIP_REASON}\n`);

// The callbacks passed to page.evaluate run in the browser. The project's tsconfig has no DOM library (adding
// one would type src/ against browser globals too), so the few globals they use are declared here, loosely.
declare const document: any;
declare const getComputedStyle: (el: unknown) => { display: string };
declare const Image: new () => { src: string; naturalWidth: number; naturalHeight: number; decode(): Promise<void> };
interface SvgText {
  textContent: string | null;
  getBBox(): { width: number };
}

const TINY = [
  "experiment.backend=cpu",
  "agent.network.hidden=[16, 16]",
  "train.learningStarts=100",
  "train.batchSize=16",
  "eval.episodes=1",
  "eval.every=150",
  "experiment.totalSteps=600",
  "checkpoint.every=0",
  "logging.every=100",
];

describe.skipIf(!chromium)(`report.html in headless Chromium${chromium ? "" : ` (${SKIP_REASON})`}`, () => {
  let dir: string;
  let report: Report;
  let browser: Browser | undefined;
  let page: Page;
  const errors: string[] = [];
  const requests: string[] = [];
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "qttdm-report-browser-"));
    // Two configs (the default sampler and uniform), two seeds each: four real runs of 600 steps.
    for (const extra of [[], ["replay.sampler=uniform"]]) {
      for (const seed of [1, 2]) {
        const config = loadConfig({ set: [...TINY, `experiment.runsDir=${dir}`, `experiment.seed=${seed}`, ...extra] });
        await train({ config, progress: false, print: () => {} });
      }
    }
    const out = join(dir, "report.html");
    report = writeReport([dir], { out, reps: 200 }).report;
    url = pathToFileURL(out).href;

    browser = await launchChromium(chromium!);
    page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => errors.push(`page error: ${(e as Error).message ?? String(e)}`));
    page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ""}`));
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(url, { waitUntil: "load" });
  });

  afterAll(async () => {
    if (browser) await closeChromium(browser);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("loads with no console errors, no page errors and nothing fetched but the page itself", () => {
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);
  });

  it("draws one curve per config, and confidence bands, in the eval-vs-steps figure", async () => {
    const labels = report.groups.map((g) => g.label);
    expect(labels).toHaveLength(2);
    const fig = await page.$eval("#eval-vs-steps", (svg) => ({
      curves: [...svg.querySelectorAll("path.curve")].map((p) => ({ series: p.getAttribute("data-series"), d: p.getAttribute("d") ?? "" })),
      bands: [...svg.querySelectorAll("path.band")].map((p) => p.getAttribute("data-series")),
      seeds: [...svg.querySelectorAll("path.seed")].map((p) => p.getAttribute("data-series")),
      // The laid-out size: the figure is rendered, not merely present.
      width: svg.getBoundingClientRect().width,
      height: svg.getBoundingClientRect().height,
    }));
    expect(fig.curves.map((c) => c.series).sort()).toEqual([...labels].sort());
    // Each curve is a line through several evals (M then at least one L).
    for (const c of fig.curves) expect(c.d).toMatch(/^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+)+$/);
    expect(fig.bands.length).toBeGreaterThanOrEqual(1);
    for (const b of fig.bands) expect(labels).toContain(b);
    // One per-seed line per run.
    expect(fig.seeds.sort()).toEqual([labels[0], labels[0], labels[1], labels[1]].sort());
    expect(fig.width).toBeGreaterThan(100);
    expect(fig.height).toBeGreaterThan(50);
  });

  it("gives every figure a title, and every line chart labelled x and y axes (text the browser lays out)", async () => {
    const figures = await page.$$eval("svg.figure", (svgs) =>
      svgs.map((svg) => {
        const text = (sel: string) =>
          ([...svg.querySelectorAll(sel)] as SvgText[]).map((t) => ({ text: (t.textContent ?? "").trim(), width: t.getBBox().width }));
        return { id: svg.id, lineChart: svg.querySelector(".curve") !== null, title: text(".title"), x: text(".xlabel"), y: text(".ylabel") };
      }),
    );
    expect(figures.map((f) => f.id)).toEqual(report.figures.map((f) => f.id));
    expect(figures.filter((f) => f.lineChart).map((f) => f.id)).toContain("eval-vs-steps");
    for (const f of figures) {
      const where = `figure #${f.id}`;
      expect(f.title, where).toHaveLength(1);
      expect(f.title[0]!.text, where).not.toBe("");
      expect(f.title[0]!.width, where).toBeGreaterThan(0);
      // Every figure labels its value axis (interval and strip charts have x labels only: rows are configs).
      expect(f.x.length, where).toBeGreaterThanOrEqual(1);
      for (const l of f.x) {
        expect(l.text, where).not.toBe("");
        expect(l.width, where).toBeGreaterThan(0);
      }
      if (f.lineChart) {
        expect(f.x, where).toHaveLength(1);
        expect(f.y, where).toHaveLength(1);
        expect(f.y[0]!.text, where).not.toBe("");
        expect(f.y[0]!.width, where).toBeGreaterThan(0);
      }
    }
  });

  it("has tables under 'Tables', each with a header and rows", async () => {
    const tables = await page.evaluate(() => {
      const heading = [...document.querySelectorAll("h2")].find((h) => h.textContent === "Tables");
      const out: { title: string; th: number; td: number }[] = [];
      for (let el = heading?.nextElementSibling; el && el.tagName !== "H2"; el = el.nextElementSibling) {
        if (el.tagName === "TABLE") {
          out.push({ title: el.previousElementSibling?.textContent ?? "", th: el.querySelectorAll("th").length, td: el.querySelectorAll("td").length });
        }
      }
      return { heading: heading !== undefined, tables: out };
    });
    expect(tables.heading).toBe(true);
    expect(tables.tables.length).toBeGreaterThanOrEqual(1);
    expect(tables.tables.length).toBe(report.tables.length);
    for (const t of tables.tables) {
      expect(t.title).not.toBe("");
      expect(t.th).toBeGreaterThan(0);
      expect(t.td).toBeGreaterThan(0);
    }
  });

  it("hides the per-seed lines until the 'show each seed' checkbox is ticked", async () => {
    const displays = () => page.$$eval("path.seed", (ps) => ps.map((p) => getComputedStyle(p).display));
    const before = await displays();
    expect(before.length).toBeGreaterThanOrEqual(4);
    expect(before.every((d) => d === "none")).toBe(true);
    await page.click("#seeds");
    expect(await page.$eval("#seeds", (c) => (c as unknown as { checked: boolean }).checked)).toBe(true);
    expect(await page.evaluate(() => document.body.classList.contains("show-seeds"))).toBe(true);
    const after = await displays();
    expect(after.length).toBe(before.length);
    expect(after.every((d) => d !== "none")).toBe(true);
    await page.click("#seeds");
    expect((await displays()).every((d) => d === "none")).toBe(true);
    expect(errors).toEqual([]);
  });

  it("renders the eval-vs-steps figure to a screenshot that is not blank", async () => {
    const png = await (await page.$("#eval-vs-steps"))!.screenshot({ type: "png" });
    // Decoded by the browser itself: the PNG is drawn into a canvas on a blank page and its pixels counted.
    // A blank (or single-colour) image has one distinct colour and no pixel far from white, and it cannot
    // contain both configs' curve colours, so these checks fail for it; a drawn chart passes them all.
    const blank = await browser!.newPage();
    try {
      const colours = report.groups.map((g) => g.color);
      const stats = await blank.evaluate(
        async (b64: string, curveColours: string[]) => {
          const img = new Image();
          img.src = `data:image/png;base64,${b64}`;
          await img.decode();
          const canvas = document.createElement("canvas");
          canvas.width = img.naturalWidth;
          canvas.height = img.naturalHeight;
          const ctx = canvas.getContext("2d")!;
          ctx.drawImage(img, 0, 0);
          const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
          const rgb = curveColours.map((c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)));
          const near = rgb.map(() => 0);
          const distinct = new Set<number>();
          let inked = 0;
          for (let i = 0; i < px.length; i += 4) {
            const [r, g, b] = [px[i]!, px[i + 1]!, px[i + 2]!];
            distinct.add((r << 16) | (g << 8) | b);
            if (r < 200 || g < 200 || b < 200) inked++;
            rgb.forEach(([cr, cg, cb], k) => {
              if (Math.abs(r - cr!) + Math.abs(g - cg!) + Math.abs(b - cb!) < 40) near[k]!++;
            });
          }
          return { width: canvas.width, height: canvas.height, pixels: px.length / 4, distinct: distinct.size, inked, near };
        },
        Buffer.from(png).toString("base64"),
        colours,
      );
      expect(stats.width).toBeGreaterThan(100);
      expect(stats.height).toBeGreaterThan(50);
      // Axes, grid, text, two curves and their bands: many colours, and a visible share of dark pixels.
      expect(stats.distinct).toBeGreaterThan(20);
      expect(stats.inked / stats.pixels).toBeGreaterThan(0.005);
      // Each config's curve is drawn in its colour (2 px lines: dozens of pixels at least).
      for (const n of stats.near) expect(n).toBeGreaterThan(30);
    } finally {
      await blank.close();
    }
  });
});
