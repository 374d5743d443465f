// docs/examples/browser-policy.html as a reader uses it: a real tfjs export, tf.min.js and the page copied into a
// folder served from 127.0.0.1, opened in headless system Chromium (puppeteer-core); the actions it shows must be
// the agent's. Skipped where no Chromium is installed; CI (.ci/run) installs Debian's `chromium`.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import type { Browser } from "puppeteer-core";
import { afterAll, describe, expect, it } from "vitest";
import { argmaxRows } from "../../src/export/forward.js";
import { greedyPolicy } from "../../src/export/policy.js";
import { writeTfjs } from "../../src/export/tfjs.js";
import { closeChromium, findChromium, launchChromium } from "../helpers/chromium.js";
import { agentQValues, clearRows, expectRelClose, tinyRun } from "./helpers.js";

const chromium = findChromium();
const SKIP_REASON = "skipped: no chromium, chromium-browser or google-chrome on PATH (Debian: apt-get install chromium)";
if (!chromium) process.stderr.write(`test/export/browser.test.ts ${SKIP_REASON}\n`);

declare const document: any;
declare const window: any;

const TYPES: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".json": "application/json", ".bin": "application/octet-stream" };

/** A static file server for `root` on 127.0.0.1 (an ephemeral port). */
async function serve(root: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://127.0.0.1").pathname));
    try {
      const body = readFileSync(join(root, path));
      res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe.skipIf(!chromium)(`browser-policy.html in headless Chromium${chromium ? "" : ` (${SKIP_REASON})`}`, () => {
  let browser: Browser | undefined;
  let server: Server | undefined;
  let site: string | undefined;

  afterAll(async () => {
    if (browser) await closeChromium(browser);
    if (server) await new Promise((resolve) => server!.close(resolve));
    if (site) rmSync(site, { recursive: true, force: true });
  });

  it("loads an exported policy with the local tf.min.js and shows the agent's actions and Q-values", async () => {
    const dir = await tinyRun(["agent.network.layerNorm=true", "agent.network.dueling=true"]);
    const p = await greedyPolicy(dir);
    site = mkdtempSync(join(tmpdir(), "qttdm-browser-policy-"));
    mkdirSync(join(site, "policy-tfjs"));
    await writeTfjs(p, join(site, "policy-tfjs"));
    copyFileSync("docs/examples/browser-policy.html", join(site, "browser-policy.html"));
    copyFileSync("node_modules/@tensorflow/tfjs/dist/tf.min.js", join(site, "tf.min.js"));
    const s = await serve(site);
    server = s.server;

    browser = await launchChromium(chromium!);
    const page = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`console.error: ${m.text()}`);
    });
    page.on("pageerror", (e) => errors.push(`page error: ${(e as Error).message ?? String(e)}`));
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(`${s.origin}/browser-policy.html`, { waitUntil: "load" });
    await page.waitForSelector("body[data-ready=true]", { timeout: 60_000 });

    const shown = await page.evaluate(() => ({
      states: window.SAMPLE_STATES as number[][],
      results: window.POLICY_RESULTS as { q: number[]; action: number }[],
      rows: Array.from(document.querySelectorAll("#actions tbody tr")).map((tr: any) => Number(tr.dataset.action)),
      cells: Array.from(document.querySelectorAll("#actions tbody td.action")).map((td: any) => td.textContent as string),
      about: document.getElementById("about").textContent as string,
    }));
    expect(errors).toEqual([]);
    expect(requests.every((u) => u.startsWith(`${s.origin}/`))).toBe(true);
    expect(requests.map((u) => u.slice(s.origin.length))).toEqual(expect.arrayContaining(["/tf.min.js", "/policy-tfjs/model.json", "/policy-tfjs/group1-shard1of1.bin"]));

    const n = shown.states.length;
    expect(n).toBeGreaterThanOrEqual(3);
    const obs = Float32Array.from(shown.states.flat());
    const agent = await agentQValues(dir, p, obs, n);
    expectRelClose(shown.results.flatMap((r) => r.q), agent, 1e-5);
    const agentActions = argmaxRows(agent, n, p.actions);
    expect(shown.rows).toEqual(shown.results.map((r) => r.action));
    for (const r of clearRows(agent, n, p.actions, 1e-5)) expect(shown.rows[r]).toBe(agentActions[r]);
    shown.cells.forEach((text, i) => expect(text).toMatch(new RegExp(`^${shown.rows[i]} \\(`)));
    expect(shown.about).toContain(p.source);
  });
});
