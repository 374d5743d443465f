// `qttdm eval`: episode statistics (IQM and mean with stratified-bootstrap CIs) and `--record FILE.html`, the
// self-contained trajectory viewer (LunarLander animation, MuJoCo height/x/reward-term plots, other envs).
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordTargets } from "../../src/cli/eval.js";
import { loadConfig } from "../../src/config/load.js";
import { Rng } from "../../src/core/rng.js";
import { LunarLander, makeEnv, box, type Env, type StepResult } from "../../src/envs/index.js";
import { TimeLimit } from "../../src/envs/wrappers.js";
import { aggregate, iqm, mean, stratifiedBootstrap } from "../../src/report/stats.js";
import {
  landerPose,
  lunarEngines,
  statisticsLine,
  trajectoryHtml,
  type LanderFrames,
  type LunarLanderScene,
  type MujocoScene,
} from "../../src/report/trajectory.js";
import { episodeStatistics, evaluate, evaluateCheckpoint, type CheckpointEvalResult } from "../../src/train/evaluate.js";
import { train } from "../../src/train/trainer.js";
import { qttdm } from "../helpers/cli.js";

const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `qttdm-traj-${tag}-`));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A system Chromium for the viewer's browser check (puppeteer-core drives it; nothing is downloaded), or null. */
const chromium = (() => {
  const names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
  const candidates = [process.env.PUPPETEER_EXECUTABLE_PATH ?? "", ...(process.env.PATH ?? "").split(delimiter).filter((d) => d).flatMap((d) => names.map((n) => join(d, n)))];
  return (
    candidates.find((f) => {
      try {
        accessSync(f, constants.X_OK);
        return f !== "";
      } catch {
        return false;
      }
    }) ?? null
  );
})();

// page.evaluate callbacks run in the browser; the project's tsconfig has no DOM library.
declare const document: any;

/** Every `<script type="application/json" class="frames">` of a page, parsed, in page order. */
function framesOf(html: string): LanderFrames[] {
  return [...html.matchAll(/<script type="application\/json" class="frames">([\s\S]*?)<\/script>/g)].map((m) => JSON.parse(m[1]!) as LanderFrames);
}

/** What a self-contained page must not have: a URL in a src/href attribute, a stylesheet link, a CSS import or url(). */
function expectSelfContained(html: string): void {
  expect(html).not.toMatch(/\b(?:src|href|xlink:href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
  expect(html).not.toMatch(/<link\b|@import|url\(/i);
  expect(html).not.toMatch(/<script[^>]*\bsrc=/i);
}

/** The number of points of the first `class="curve"` path of the chart with this id. */
function curvePoints(html: string, id: string): number {
  const svg = html.slice(html.indexOf(`id="${id}"`));
  const d = /<path class="curve"[^>]* d="([^"]*)"/.exec(svg.slice(0, svg.indexOf("</svg>")))![1]!;
  return (d.match(/[ML]/g) ?? []).length;
}

describe("episode statistics", () => {
  // Known returns: sorted, floor(8/4) = 2 dropped from each end, so the IQM is the mean of 3, 4, 5, 6.
  const returns = [7, 1, 100, 3, 5, 2, 6, 4];

  it("are the IQM and mean of the returns with the stratified bootstrap's 95% intervals, seeded as given", () => {
    const s = episodeStatistics(returns, 11)!;
    expect(s.iqm.point).toBe(4.5);
    expect(s.mean.point).toBe(128 / 8);
    expect(s).toMatchObject({ episodes: 8, confidence: 0.95, reps: 2000, seed: 11 });
    // The same numbers as report/stats.ts computes for episodes as runs of one task.
    const column = returns.map((r) => [r]);
    expect(s.iqm).toEqual(stratifiedBootstrap(column, iqm, { reps: 2000, seed: 11 }));
    expect(s.mean).toEqual(stratifiedBootstrap(column, mean, { reps: 2000, seed: 11 }));
    const a = aggregate(column, { reps: 2000, seed: 11 });
    expect([s.iqm, s.mean]).toEqual([a.iqm, a.mean]);
    for (const i of [s.iqm, s.mean]) {
      expect(i.lo).toBeLessThanOrEqual(i.point);
      expect(i.hi).toBeGreaterThanOrEqual(i.point);
      expect(i.hi).toBeGreaterThan(i.lo);
    }
    // The mean's interval reaches past the outlier's pull; the IQM's stays within the central returns' range.
    expect(s.iqm.hi).toBeLessThan(s.mean.hi);
    expect(s.iqm.lo).toBeGreaterThanOrEqual(1);
    // Deterministic for a seed, different for another.
    expect(episodeStatistics(returns, 11)).toEqual(s);
    expect(episodeStatistics(returns, 12)!.mean).not.toEqual(s.mean);
  });

  it("are null for a non-finite return, and one episode is a point", () => {
    expect(episodeStatistics([1, NaN, 3], 0)).toBeNull();
    expect(episodeStatistics([1, Infinity], 0)).toBeNull();
    expect(statisticsLine(null, 3)).toMatch(/not computed/);
    const one = episodeStatistics([-42.5], 0)!;
    expect([one.iqm, one.mean]).toEqual([
      { point: -42.5, lo: -42.5, hi: -42.5 },
      { point: -42.5, lo: -42.5, hi: -42.5 },
    ]);
    expect(statisticsLine(one, 1)).toBe("IQM return -42.50 [-42.50, -42.50], mean return -42.50 [-42.50, -42.50] (95% CIs: stratified bootstrap over 1 episode, 2000 resamples, seed 0; one episode has no spread)");
  });

  it("print as one line", () => {
    const s = episodeStatistics(returns, 11)!;
    const line = statisticsLine(s, 8);
    expect(line.split("\n")).toHaveLength(1);
    expect(line).toBe(
      `IQM return 4.50 [${s.iqm.lo.toFixed(2)}, ${s.iqm.hi.toFixed(2)}], mean return 16.00 [${s.mean.lo.toFixed(2)}, ${s.mean.hi.toFixed(2)}] (95% CIs: stratified bootstrap over 8 episodes, 2000 resamples, seed 11)`,
    );
  });
});

describe("--record targets", () => {
  it("FILE.html is the viewer with FILE.json beside it; anything else is the JSON alone", () => {
    expect(recordTargets("out/traj.html")).toEqual({ json: "out/traj.json", html: "out/traj.html" });
    expect(recordTargets("traj.HTM")).toEqual({ json: "traj.json", html: "traj.HTM" });
    expect(recordTargets("traj.json")).toEqual({ json: "traj.json", html: null });
    expect(recordTargets("traj")).toEqual({ json: "traj", html: null });
  });

  it("engine throttles follow the env's rules", () => {
    expect([0, 1, 2, 3].map((a) => lunarEngines(a))).toEqual([
      { main: 0, side: 0 },
      { main: 0, side: -1 },
      { main: 1, side: 0 },
      { main: 0, side: 1 },
    ]);
    expect(lunarEngines([0.5, -0.75])).toEqual({ main: 0.75, side: -0.75 });
    expect(lunarEngines([-0.2, 0.4])).toEqual({ main: 0, side: 0 });
    expect(lunarEngines([3, 2])).toEqual({ main: 1, side: 1 });
  });
});

describe("LunarLander: eval statistics and the viewer of a trained checkpoint", () => {
  let run: string;
  let result: CheckpointEvalResult;
  let html: string;

  beforeAll(async () => {
    const runs = tmp("lunar");
    dirs.push(runs);
    const config = loadConfig({
      set: [
        "experiment.backend=cpu",
        "agent.network.hidden=[16, 16]",
        "train.learningStarts=100",
        "train.batchSize=16",
        "eval.episodes=1",
        "experiment.totalSteps=300",
        "eval.every=0",
        "checkpoint.every=0",
        `experiment.runsDir=${runs}`,
      ],
    });
    const s = await train({ config, progress: false, print: () => {} });
    run = s.runDir;
    result = await evaluateCheckpoint({ checkpoint: run, episodes: 2, seed: 5, record: true });
    html = trajectoryHtml(result);
  });

  it("evaluateCheckpoint returns the statistics, seeded with the first seed", () => {
    expect(result.env).toBe("LunarLander-v3");
    expect(result.seeds).toEqual([5, 6]);
    expect(result.statistics).toEqual(episodeStatistics(result.returns, 5));
    expect(result.statistics!.mean.point).toBeCloseTo(result.mean, 9);
  });

  it("records the terrain and legs of every frame", () => {
    for (const [e, t] of result.trajectories!.entries()) {
      expect(t.observations).toHaveLength(result.lengths[e]! + 1);
      const scene = t.scene as LunarLanderScene;
      expect(scene.kind).toBe("lunar-lander");
      expect(scene.width).toBe(20);
      expect(scene.height).toBeCloseTo(400 / 30, 12);
      expect(scene.terrainX).toHaveLength(11);
      expect(scene.legs).toHaveLength(t.observations.length);
      // The ground is flat between the flags (Gymnasium smooths with 0.33, not 1/3: at 0.99 of helipad_y).
      const onPad = scene.terrainX.map((x, i) => [x, scene.terrainY[i]!] as const).filter(([x]) => x >= scene.helipadX1 && x <= scene.helipadX2);
      expect(onPad).toHaveLength(3);
      for (const [, y] of onPad) expect(y).toBeCloseTo(0.99 * scene.helipadY, 9);
    }
  });

  it("is self-contained and holds one animation per episode, a frame per step plus the reset's", () => {
    expectSelfContained(html);
    expect(html.match(/<svg class="lander-animation"/g)).toHaveLength(2);
    const frames = framesOf(html);
    expect(frames).toHaveLength(2);
    frames.forEach((f, e) => {
      const steps = result.lengths[e]!;
      for (const k of ["x", "y", "angle", "legs", "contact", "main", "side"] as const) expect(f[k]).toHaveLength(steps + 1);
      expect(f.reward).toHaveLength(steps);
      expect(html).toContain(`<section class="episode" id="episode-${e}" data-steps="${steps}">`);
      expect(html).toContain(`max="${steps}"`);
    });
    expect(html).toContain('<button type="button" class="play">');
    expect(html).toContain('<input type="range" class="step"');
    expect(html).toContain(statisticsLine(result.statistics, 2).replace(/'/g, "&#39;"));
  });

  it("decodes the lander's position and angle from the observations as the env's body holds them", async () => {
    const env = (await makeEnv("LunarLander-v3")) as TimeLimit;
    const lander = env.unwrapped as LunarLander;
    try {
      const frames = framesOf(html);
      for (const e of [0, 1]) {
        const t = result.trajectories![e]!;
        const scene = t.scene as LunarLanderScene;
        env.reset({ seed: result.seeds[e]! });
        const check = (k: number) => {
          const [x, y, , , angle] = lander.rawState();
          const pose = landerPose(t.observations[k]!, scene);
          expect(pose.x).toBeCloseTo(x!, 5);
          expect(pose.y).toBeCloseTo(y!, 5);
          expect(pose.angle).toBeCloseTo(angle!, 6);
          expect(frames[e]!.x[k]).toBeCloseTo(x!, 4);
          expect(frames[e]!.y[k]).toBeCloseTo(y!, 4);
          expect(scene.legs[k]).toEqual(lander.legStates().flat());
        };
        check(0);
        expect(lander.lastReset!.smoothY).toEqual(Float64Array.from(scene.terrainY));
        const n = Math.min(25, t.actions.length);
        for (let k = 1; k <= n; k++) {
          const a = t.actions[k - 1]!;
          env.step(typeof a === "number" ? a : Float32Array.from(a));
          check(k);
        }
      }
    } finally {
      env.close();
    }
  });

  it.skipIf(!chromium)(`plays in a browser: no errors, no requests, the slider and Play move the lander${chromium ? "" : " (skipped: no chromium on PATH)"}`, async () => {
    const dir = tmp("browser");
    dirs.push(dir);
    const file = join(dir, "view.html");
    writeFileSync(file, html);
    const { launch } = await import("puppeteer-core");
    const browser = await launch({ executablePath: chromium!, headless: true, args: ["--no-sandbox", "--headless=new", "--disable-dev-shm-usage", "--disable-gpu"] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
      page.on("request", (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
      const f = framesOf(html)[0]!;
      const k = Math.min(10, f.x.length - 1);
      const state = () =>
        page.evaluate(() => {
          const p = document.querySelector(".player");
          return { transform: p.querySelector(".lander").getAttribute("transform"), readout: p.querySelector(".readout").textContent, value: Number(p.querySelector("input.step").value) };
        });
      expect((await state()).readout).toMatch(/^step 0\/\d+ \| return 0\.00 \| x /);
      await page.evaluate((k: number) => {
        const s = document.querySelector(".player input.step");
        s.value = String(k);
        s.dispatchEvent(new Event("input"));
      }, k);
      const at = await state();
      const expected = `translate(${(f.x[k]! * 30).toFixed(1)} ${((f.height - f.y[k]!) * 30).toFixed(1)}) rotate(${((-f.angle[k]! * 180) / Math.PI).toFixed(2)})`;
      expect(at.transform).toBe(expected);
      expect(at.readout).toContain(`step ${k}/${f.x.length - 1} | reward ${f.reward[k - 1]!.toFixed(2)}`);
      await page.click(".player button.play");
      await new Promise((r) => setTimeout(r, 300));
      expect((await state()).value).toBeGreaterThan(k);
      expect(errors).toEqual([]);
      expect(requests).toEqual([pathToFileURL(file).href]);
    } finally {
      await browser.close();
    }
  });

  it("`qttdm eval --record FILE.html` prints the statistics line and writes the viewer and FILE.json", () => {
    const out = tmp("cli");
    dirs.push(out);
    const r = qttdm(["eval", "--checkpoint", run, "--episodes", "2", "--seed", "5", "--record", join(out, "traj.html")]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^episode 0 \(seed 5\): return -?\d+\.\d\d, length \d+$/);
    expect(lines[1]).toMatch(/^episode 1 \(seed 6\): return/);
    expect(lines[2]).toMatch(/mean return -?\d+\.\d\d ± \d+\.\d\d over 2 episodes$/);
    expect(lines[3]).toBe(statisticsLine(result.statistics, 2));
    expect(lines.slice(4)).toEqual([`trajectories written to ${join(out, "traj.json")}`, `viewer written to ${join(out, "traj.html")}`]);
    const json = JSON.parse(readFileSync(join(out, "traj.json"), "utf8"));
    expect(json.statistics).toEqual(result.statistics);
    expect(json.returns).toEqual(result.returns);
    expect(json.trajectories).toHaveLength(2);
    const page = readFileSync(join(out, "traj.html"), "utf8");
    expectSelfContained(page);
    expect(framesOf(page).map((f) => f.x.length)).toEqual(result.lengths.map((l) => l + 1));
  });

  it("an unwritable viewer is a one-line error (exit 2) after the printed results", () => {
    const out = tmp("cli-err");
    dirs.push(out);
    mkdirSync(join(out, "traj.html"));
    const r = qttdm(["eval", "--checkpoint", run, "--episodes", "1", "--record", join(out, "traj.html")]);
    expect(r.status).toBe(2);
    expect(r.stdout).toContain("mean return");
    expect(r.stdout).toContain("IQM return");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^qttdm: EISDIR/);
    // The JSON beside it was written first.
    expect(existsSync(join(out, "traj.json"))).toBe(true);
  });
});

describe("MuJoCo: torso height, x position and reward terms over time", () => {
  it("Hopper-v5 (random actions): qpos per frame, info's terms per step, one chart each", async () => {
    const env = await makeEnv("Hopper-v5");
    const rng = new Rng(3);
    const policy = () => Float32Array.from({ length: 3 }, () => rng.uniform(-1, 1));
    const r = evaluate(env, policy, 2, 0, true);
    env.close();
    for (const [e, t] of r.trajectories!.entries()) {
      const scene = t.scene as MujocoScene;
      expect(scene.kind).toBe("mujoco");
      expect(scene.qpos).toHaveLength(r.lengths[e]! + 1);
      expect(scene.plots.height!.index).toBe(1);
      expect(Object.keys(t.info!).sort()).toEqual(["reward_ctrl", "reward_forward", "reward_survive", "x_position", "x_velocity", "z_distance_from_origin"]);
      for (let k = 1; k < scene.qpos.length; k++) {
        // The plotted x is the env's x_position; the height is qpos[1], which the observation holds first (float32).
        expect(scene.qpos[k]![0]).toBe(t.info!.x_position![k - 1]);
        expect(t.observations[k]![0]).toBe(Math.fround(scene.qpos[k]![1]!));
        const terms = t.info!.reward_forward![k - 1]! + t.info!.reward_survive![k - 1]! + t.info!.reward_ctrl![k - 1]!;
        expect(terms).toBeCloseTo(t.rewards[k - 1]!, 9);
      }
    }
    const html = trajectoryHtml({ env: "Hopper-v5", ...r, statistics: episodeStatistics(r.returns, 0) });
    expectSelfContained(html);
    expect(html).not.toContain("lander-animation");
    expect(html).not.toContain("<script>");
    for (const e of [0, 1]) {
      const frames = r.lengths[e]! + 1;
      expect(curvePoints(html, `ep${e}-height`)).toBe(frames);
      expect(curvePoints(html, `ep${e}-x`)).toBe(frames);
      expect(curvePoints(html, `ep${e}-rewards`)).toBe(r.lengths[e]);
      const rewards = html.slice(html.indexOf(`id="ep${e}-rewards"`));
      for (const term of ["reward_forward", "reward_ctrl", "reward_survive"]) expect(rewards.slice(0, rewards.indexOf("</svg>"))).toContain(`data-series="${term}"`);
      // Observation dimensions as small multiples (11 for Hopper).
      expect(html.match(new RegExp(`id="ep${e}-obs\\d+"`, "g"))).toHaveLength(11);
    }
    expect(html).toContain("torso height (qpos[1], m)");
  });
});

describe("other envs: reward and observation dimensions", () => {
  /** A 3-dimensional random walk that ends after 6 steps. */
  class Walk implements Env<number> {
    readonly id = "Walk-v0";
    readonly observationSpace = box(-Infinity, Infinity, [3]);
    readonly actionSpace = box(0, 1, [1]);
    private t = 0;
    reset() {
      this.t = 0;
      return { observation: new Float32Array(3), info: {} };
    }
    step(a: number): StepResult {
      this.t += 1;
      return { observation: Float32Array.of(this.t, -this.t, a), reward: this.t, terminated: this.t === 6, truncated: false, info: { note: "x" } };
    }
    close() {}
  }

  it("get a reward chart and one chart per observation dimension, with no scene", () => {
    const r = evaluate(new Walk() as Env, () => 0, 1, 0, true);
    expect(r.trajectories![0]!.scene).toBeUndefined();
    expect(r.trajectories![0]!.info).toBeUndefined();
    const html = trajectoryHtml({ env: "Walk-v0", ...r, statistics: episodeStatistics(r.returns, 0) });
    expectSelfContained(html);
    expect(curvePoints(html, "ep0-rewards")).toBe(6);
    for (const d of [0, 1, 2]) expect(curvePoints(html, `ep0-obs${d}`)).toBe(7);
    expect(html).not.toContain('id="ep0-obs3"');
  });

  it("draws at most maxEpisodes episodes and says where the rest are", () => {
    const r = evaluate(new Walk() as Env, () => 0, 3, 0, true);
    const html = trajectoryHtml({ env: "Walk-v0", ...r, statistics: episodeStatistics(r.returns, 0) }, { maxEpisodes: 2 });
    expect(html.match(/<section class="episode"/g)).toHaveLength(2);
    expect(html).toContain("Episode 2 is not drawn here (at most 2); the JSON file holds them all.");
    expect(html.match(/<tr><td>\d/g)).toHaveLength(3);
  });
});
