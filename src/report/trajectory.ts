/**
 * Recorded evaluation episodes (`qttdm eval --record`) and their viewer: one self-contained HTML page, with
 * nothing loaded from elsewhere (inline SVG, inline data and a few lines of inline script).
 *
 * What is recorded beyond observations, actions and rewards (see {@link sceneRecorder}):
 * - LunarLander-v3 / LunarLanderContinuous-v3: the terrain of each episode, as the env drew it at reset
 *   (`LunarLander.lastReset`: Gymnasium's `chunk_x`, `smooth_y`, the helipad), and both legs' position and
 *   angle per frame (`LunarLander.legStates()`). The lander's own position and angle are not recorded: the
 *   viewer decodes them from the observation ({@link landerPose}).
 * - MuJoCo envs: `qpos` per frame (the exact torso x and height; for the planar runners qpos[0] is the
 *   env's `x_position`), and with every env the numeric entries of each step's info (`reward_forward`,
 *   `reward_ctrl`, `reward_survive`, `x_position`, …).
 *
 * A frame is the state after k steps, k = 0 (the reset) … T, so an episode of T steps has T + 1 frames
 * (observations) and T actions and rewards; reward k − 1 is the reward of the step into frame k.
 */
import { LunarLander } from "../envs/box2d/lunar-lander.js";
import { MujocoEnv } from "../envs/mujoco/mujoco-env.js";
import type { Env, Info } from "../envs/types.js";
import { TimeLimit } from "../envs/wrappers.js";
import type { Interval } from "./stats.js";
import { escapeXml, formatNumber, lineChart, PALETTE, type ChartSeries } from "./svg.js";

/** One recorded episode. */
export interface Trajectory {
  /** T + 1 observations: the reset's, then one after every step. */
  observations: number[][];
  /** T actions (a discrete action is the integer, a continuous one the vector). */
  actions: (number | number[])[];
  /** T rewards. */
  rewards: number[];
  /** The numeric entries of every step's info, by key: T values each (null where a step lacked the key). */
  info?: Record<string, (number | null)[]>;
  /** What the env exposes beyond the observation, for the viewer. */
  scene?: Scene;
}

export type Scene = LunarLanderScene | MujocoScene;

/** A LunarLander episode's terrain (metres, Box2D's world frame: x right, y up) and leg poses. */
export interface LunarLanderScene {
  kind: "lunar-lander";
  /** World width and height in metres (Gymnasium's VIEWPORT_W / SCALE = 20, VIEWPORT_H / SCALE = 13.33). */
  width: number;
  height: number;
  /** The landing pad: flat between the flags at x1 and x2, at height helipadY. */
  helipadX1: number;
  helipadX2: number;
  helipadY: number;
  /** Terrain vertices (Gymnasium's `chunk_x`, `smooth_y`); the ground is the polyline through them. */
  terrainX: number[];
  terrainY: number[];
  /** Per frame, both legs' [x, y, angle, x, y, angle] as Box2D holds them (leg 0 is the one at +x at rest). */
  legs: number[][];
}

/** A qpos entry the viewer plots over time. */
export interface QposPlot {
  index: number;
  label: string;
}

/** A MuJoCo episode's generalized positions and which of them are the body's x, height and angle. */
export interface MujocoScene {
  kind: "mujoco";
  /** qpos per frame (T + 1 rows of nq). */
  qpos: number[][];
  plots: { x?: QposPlot; height?: QposPlot; angle?: QposPlot };
}

/** Statistics over the episodes (IQM and mean, each with a stratified-bootstrap percentile interval). */
export interface EpisodeStatistics {
  episodes: number;
  iqm: Interval;
  mean: Interval;
  /** Coverage of the intervals (0.95). */
  confidence: number;
  /** Bootstrap resamples and the seed of their generator. */
  reps: number;
  seed: number;
}

/** What the viewer shows: `evaluateCheckpoint`'s result with trajectories. */
export interface ViewerInput {
  env: string;
  checkpoint?: string;
  seeds: number[];
  returns: number[];
  lengths: number[];
  mean: number;
  std: number;
  statistics?: EpisodeStatistics | null;
  trajectories?: Trajectory[];
}

// ---------------------------------------------------------------------------------------------------------
// Recording
// ---------------------------------------------------------------------------------------------------------

/** Per-episode recording of what an env exposes beyond its observation: `begin` after reset, `frame` after each step. */
export interface SceneRecorder {
  begin(): void;
  frame(): void;
  end(): Scene;
}

/** The env inside its wrappers (Gymnasium's `env.unwrapped`). */
function innermost(env: Env): Env {
  let e = env;
  while (e instanceof TimeLimit) e = e.env;
  return e;
}

/**
 * Which qpos entries are the body's x position, height and angle, per MuJoCo env (from the MJCF models in
 * src/envs/mujoco/assets: the planar runners' rootx/rootz/rooty joints, the humanoid's free joint, the
 * pendulum's slider and hinge).
 */
const PLANAR_RUNNER: MujocoScene["plots"] = {
  x: { index: 0, label: "torso x (qpos[0], m)" },
  height: { index: 1, label: "torso height (qpos[1], m)" },
  angle: { index: 2, label: "torso angle (qpos[2], rad)" },
};
const MUJOCO_PLOTS: Record<string, MujocoScene["plots"]> = {
  "Hopper-v5": PLANAR_RUNNER,
  "Walker2d-v5": PLANAR_RUNNER,
  // The cheetah's rootz slide has no ref: qpos[1] is the torso's offset from the model's 0.7 m.
  "HalfCheetah-v5": { ...PLANAR_RUNNER, height: { index: 1, label: "torso height − 0.7 m (qpos[1], m)" } },
  "Humanoid-v5": {
    x: { index: 0, label: "torso x (qpos[0], m)" },
    height: { index: 2, label: "torso height (qpos[2], m)" },
  },
  "InvertedPendulum-v5": {
    x: { index: 0, label: "cart x (qpos[0], m)" },
    angle: { index: 1, label: "pole angle (qpos[1], rad)" },
  },
};

/** A recorder for the envs that expose more than their observation (LunarLander, MuJoCo); null for others. */
export function sceneRecorder(env: Env): SceneRecorder | null {
  const u = innermost(env);
  if (u instanceof LunarLander) {
    let scene: LunarLanderScene | null = null;
    return {
      begin() {
        const r = u.lastReset!;
        const n = r.chunkX.length;
        scene = {
          kind: "lunar-lander",
          // chunk_x runs from 0 to W, and Gymnasium's helipad_y is H / 4.
          width: r.chunkX[n - 1]!,
          height: 4 * r.helipadY,
          helipadX1: r.helipadX1,
          helipadX2: r.helipadX2,
          helipadY: r.helipadY,
          terrainX: Array.from(r.chunkX),
          terrainY: Array.from(r.smoothY),
          legs: [],
        };
        this.frame();
      },
      frame() {
        scene!.legs.push(u.legStates().flat());
      },
      end() {
        return scene!;
      },
    };
  }
  if (u instanceof MujocoEnv) {
    let qpos: number[][] = [];
    const plots = MUJOCO_PLOTS[u.id] ?? { x: { index: 0, label: "qpos[0]" } };
    return {
      begin() {
        qpos = [];
        this.frame();
      },
      frame() {
        qpos.push(Array.from(u.stateVector().subarray(0, u.nq)));
      },
      end() {
        return { kind: "mujoco", qpos, plots };
      },
    };
  }
  return null;
}

/** Collects the numeric entries of step infos by key (T values per key, null where a step lacked it). */
export class InfoRecorder {
  private readonly series: Record<string, (number | null)[]> = {};
  private steps = 0;

  add(info: Info): void {
    for (const [k, v] of Object.entries(info)) {
      if (typeof v !== "number") continue;
      const s = (this.series[k] ??= new Array<number | null>(this.steps).fill(null));
      s.push(v);
    }
    this.steps += 1;
    for (const s of Object.values(this.series)) if (s.length < this.steps) s.push(null);
  }

  /** The series, or undefined when no step had a numeric entry. */
  result(): Record<string, (number | null)[]> | undefined {
    return Object.keys(this.series).length > 0 ? this.series : undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// LunarLander geometry
// ---------------------------------------------------------------------------------------------------------

/** Gymnasium's SCALE: pixels per metre of its 600 × 400 rendering (the viewer draws in the same pixels). */
const PX = 30;
/** Gymnasium's LEG_DOWN / SCALE: the observation's y is measured from the helipad's height plus this. */
export const LUNAR_LEG_DOWN = 18 / PX;
/** Gymnasium's LANDER_POLY (pixels, y up), leg half-sizes LEG_W, LEG_H and the env's FPS. */
const LANDER_POLY: [number, number][] = [[-14, 17], [-17, 0], [-17, -10], [17, -10], [17, 0], [14, 17]];
const LEG_W = 2;
const LEG_H = 8;
const FPS = 50;

/**
 * The lander's world position (metres) and angle from an observation, inverting Gymnasium's normalisation
 * x_obs = (x − W/2) / (W/2), y_obs = (y − (helipad_y + LEG_DOWN/SCALE)) / (H/2), angle as is.
 */
export function landerPose(obs: ArrayLike<number>, scene: Pick<LunarLanderScene, "width" | "height" | "helipadY">): { x: number; y: number; angle: number } {
  return {
    x: obs[0]! * (scene.width / 2) + scene.width / 2,
    y: obs[1]! * (scene.height / 2) + scene.helipadY + LUNAR_LEG_DOWN,
    angle: obs[4]!,
  };
}

/** Main engine throttle (0 or 0.5…1) and side engine direction × throttle of an action, as the env applies it. */
export function lunarEngines(action: number | number[]): { main: number; side: number } {
  if (typeof action === "number") return { main: action === 2 ? 1 : 0, side: action === 1 ? -1 : action === 3 ? 1 : 0 };
  const clip = (v: number) => Math.min(Math.max(v, -1), 1);
  const a0 = clip(action[0]!);
  const a1 = clip(action[1]!);
  return { main: a0 > 0 ? (a0 + 1) / 2 : 0, side: Math.abs(a1) > 0.5 ? Math.sign(a1) * Math.abs(a1) : 0 };
}

/** The animation's per-frame data (as embedded in the page). */
export interface LanderFrames {
  fps: number;
  /** Pixels per metre and the world's height in metres (to map y up to SVG's y down). */
  scale: number;
  height: number;
  /** The reward strip's left edge and width in pixels (for the cursor). */
  stripLeft: number;
  stripWidth: number;
  x: (number | null)[];
  y: (number | null)[];
  angle: (number | null)[];
  legs: number[][];
  contact: number[][];
  main: number[];
  side: number[];
  reward: (number | null)[];
}

const round = (v: number, digits = 5): number | null => (Number.isFinite(v) ? Number(v.toFixed(digits)) : null);

/** The per-frame data of a LunarLander episode's animation. */
export function landerFrames(t: Trajectory, scene: LunarLanderScene): LanderFrames {
  const poses = t.observations.map((o) => landerPose(o, scene));
  const engines = [{ main: 0, side: 0 }, ...t.actions.map(lunarEngines)];
  return {
    fps: FPS,
    scale: PX,
    height: scene.height,
    stripLeft: STRIP_LEFT,
    stripWidth: scene.width * PX - STRIP_LEFT - 10,
    x: poses.map((p) => round(p.x)),
    y: poses.map((p) => round(p.y)),
    angle: poses.map((p) => round(p.angle)),
    legs: scene.legs.map((l) => l.map((v) => round(v) ?? 0)),
    contact: t.observations.map((o) => [o[6] ?? 0, o[7] ?? 0]),
    main: engines.map((e) => round(e.main, 3)!),
    side: engines.map((e) => round(e.side, 3)!),
    reward: t.rewards.map((r) => round(r, 4)),
  };
}

const STRIP_LEFT = 44;
const STRIP_HEIGHT = 90;

/** `translate(x y) rotate(-angle)` of a body at world (x, y, angle): SVG's y points down, so angles flip. */
function placement(x: number, y: number, angle: number, worldHeight: number): string {
  return `translate(${(x * PX).toFixed(1)} ${((worldHeight - y) * PX).toFixed(1)}) rotate(${((-angle * 180) / Math.PI).toFixed(2)})`;
}

/** A LunarLander episode as an SVG scene (terrain, pad, flags, lander, legs) with a reward strip and controls. */
function landerPlayer(id: string, t: Trajectory, scene: LunarLanderScene): string {
  const f = landerFrames(t, scene);
  const VW = scene.width * PX;
  const VH = scene.height * PX;
  const sx = (x: number) => (x * PX).toFixed(1);
  const sy = (y: number) => ((scene.height - y) * PX).toFixed(1);
  const ground = [`0,${VH.toFixed(1)}`, ...scene.terrainX.map((x, i) => `${sx(x)},${sy(scene.terrainY[i]!)}`), `${VW.toFixed(1)},${VH.toFixed(1)}`].join(" ");
  const flags = [scene.helipadX1, scene.helipadX2]
    .map((x) => {
      const top = (scene.height - scene.helipadY) * PX - 50;
      return `<line x1="${sx(x)}" x2="${sx(x)}" y1="${sy(scene.helipadY)}" y2="${top.toFixed(1)}" stroke="#fff" stroke-width="1.5"/><polygon points="${sx(x)},${top.toFixed(1)} ${sx(x)},${(top + 10).toFixed(1)} ${(x * PX + 25).toFixed(1)},${(top + 5).toFixed(1)}" fill="#cc0"/>`;
    })
    .join("");
  const body = LANDER_POLY.map(([x, y]) => `${x},${-y}`).join(" ");
  const p0 = landerPose(t.observations[0]!, scene);
  const legs = [0, 1]
    .map((j) => {
      const l = scene.legs[0]!;
      return `<g class="leg" transform="${placement(l[3 * j]!, l[3 * j + 1]!, l[3 * j + 2]!, scene.height)}"><rect x="${-LEG_W}" y="${-LEG_H}" width="${2 * LEG_W}" height="${2 * LEG_H}"/></g>`;
    })
    .join("");
  // Reward strip under the scene: the reward of each step, zero line, cursor at the current frame.
  const top = VH + 12;
  const h = STRIP_HEIGHT - 24;
  const finite = t.rewards.filter(Number.isFinite);
  let lo = Math.min(0, ...finite);
  let hi = Math.max(0, ...finite);
  if (!(hi > lo)) hi = lo + 1;
  const T = Math.max(1, t.rewards.length);
  const rx = (k: number) => (STRIP_LEFT + (k / T) * f.stripWidth).toFixed(1);
  const ry = (r: number) => (top + h - ((r - lo) / (hi - lo)) * h).toFixed(1);
  const points = t.rewards.map((r, i) => (Number.isFinite(r) ? `${rx(i + 1)},${ry(r)}` : "")).filter((s) => s).join(" ");
  const strip = [
    `<rect x="0" y="${VH}" width="${VW}" height="${STRIP_HEIGHT}" fill="#fff"/>`,
    `<text x="4" y="${top + 4}" font-size="10" fill="#333">${escapeXml(formatNumber(hi))}</text>`,
    `<text x="4" y="${top + h}" font-size="10" fill="#333">${escapeXml(formatNumber(lo))}</text>`,
    `<text x="${STRIP_LEFT}" y="${VH + STRIP_HEIGHT - 3}" font-size="10" fill="#333">reward per step (${t.rewards.length} steps)</text>`,
    `<line x1="${STRIP_LEFT}" x2="${(STRIP_LEFT + f.stripWidth).toFixed(1)}" y1="${ry(0)}" y2="${ry(0)}" stroke="#bbb"/>`,
    `<polyline class="rewards" points="${points}" fill="none" stroke="${PALETTE[0]}" stroke-width="1"/>`,
    `<line class="cursor" x1="${rx(0)}" x2="${rx(0)}" y1="${top - 4}" y2="${top + h + 2}" stroke="${PALETTE[1]}" stroke-width="1.5"/>`,
  ].join("\n");
  const svg = [
    `<svg class="lander-animation" viewBox="0 0 ${VW} ${VH + STRIP_HEIGHT}" width="${VW}" height="${VH + STRIP_HEIGHT}" role="img" aria-label="${escapeXml(`${id}: lander animation`)}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="${VW}" height="${VH}" fill="#000"/>`,
    `<polygon class="terrain" points="${ground}" fill="#eee"/>`,
    `<line class="pad" x1="${sx(scene.helipadX1)}" x2="${sx(scene.helipadX2)}" y1="${sy(scene.helipadY)}" y2="${sy(scene.helipadY)}" stroke="#cc0" stroke-width="3"/>`,
    flags,
    legs,
    `<g class="lander" transform="${placement(p0.x, p0.y, p0.angle, scene.height)}">`,
    `<g transform="translate(0 10)"><polygon class="main-flame" points="-5,0 5,0 0,22" fill="#f80" transform="scale(1 0)"/></g>`,
    `<g class="side" transform="scale(1 1)"><g transform="translate(-17 -14)"><polygon class="side-flame" points="0,-3 0,3 -14,0" fill="#f80" transform="scale(0)"/></g></g>`,
    `<polygon points="${body}" fill="#8066e6" stroke="#4d4d80" stroke-width="1.5"/>`,
    `</g>`,
    strip,
    `</svg>`,
  ].join("\n");
  const data = JSON.stringify(f).replace(/</g, "\\u003c");
  return `<div class="player" id="${escapeXml(id)}-player" data-frames="${f.x.length}">
${svg}
<div class="controls"><button type="button" class="play">&#9654; Play</button>
<input type="range" class="step" min="0" max="${f.x.length - 1}" value="0" step="1" aria-label="frame">
<span class="readout"></span></div>
<script type="application/json" class="frames">${data}</script>
</div>`;
}

/** The page's script: a play/pause button and a frame slider per animation (also shows frame 0 on load). */
const PLAYER_SCRIPT = `
for (const p of document.querySelectorAll(".player")) {
  const f = JSON.parse(p.querySelector("script.frames").textContent);
  const n = f.x.length, S = f.scale, $ = (s) => p.querySelector(s);
  const lander = $(".lander"), legs = p.querySelectorAll(".leg"), main = $(".main-flame"), side = $(".side"), sideFlame = $(".side-flame");
  const cursor = $(".cursor"), slider = $("input.step"), button = $("button.play"), readout = $(".readout");
  const at = (x, y, a) => "translate(" + (x * S).toFixed(1) + " " + ((f.height - y) * S).toFixed(1) + ") rotate(" + (-a * 180 / Math.PI).toFixed(2) + ")";
  const ret = [0];
  for (let k = 1; k < n; k++) ret.push(ret[k - 1] + (f.reward[k - 1] || 0));
  const num = (v, d) => (v === null ? "n/a" : v.toFixed(d));
  let k = 0, timer = null;
  const show = (i) => {
    k = i;
    lander.setAttribute("transform", at(f.x[k], f.y[k], f.angle[k]));
    legs.forEach((g, j) => {
      const l = f.legs[k];
      g.setAttribute("transform", at(l[3 * j], l[3 * j + 1], l[3 * j + 2]));
      g.classList.toggle("contact", f.contact[k][j] > 0);
    });
    main.setAttribute("transform", "scale(1 " + f.main[k] + ")");
    side.setAttribute("transform", "scale(" + (f.side[k] < 0 ? -1 : 1) + " 1)");
    sideFlame.setAttribute("transform", "scale(" + Math.abs(f.side[k]) + ")");
    const cx = (f.stripLeft + (k / Math.max(1, n - 1)) * f.stripWidth).toFixed(1);
    cursor.setAttribute("x1", cx);
    cursor.setAttribute("x2", cx);
    slider.value = String(k);
    readout.textContent = "step " + k + "/" + (n - 1) + (k ? " | reward " + num(f.reward[k - 1], 2) : "") + " | return " + ret[k].toFixed(2) +
      " | x " + num(f.x[k], 2) + " m, y " + num(f.y[k], 2) + " m, angle " + num(f.angle[k], 3) + " rad | legs " + f.contact[k].map((c) => (c ? "down" : "up")).join("/");
  };
  const stop = () => { clearInterval(timer); timer = null; button.innerHTML = "&#9654; Play"; };
  button.addEventListener("click", () => {
    if (timer) return stop();
    if (k >= n - 1) show(0);
    button.innerHTML = "&#10074;&#10074; Pause";
    timer = setInterval(() => (k >= n - 1 ? stop() : show(k + 1)), 1000 / f.fps);
  });
  slider.addEventListener("input", () => { stop(); show(Number(slider.value)); });
  show(0);
}
`;

// ---------------------------------------------------------------------------------------------------------
// Charts
// ---------------------------------------------------------------------------------------------------------

const steps = (n: number, from = 0) => Array.from({ length: n }, (_, i) => i + from);
const nums = (xs: (number | null)[]) => xs.map((v) => (v === null ? NaN : v));

/** The reward of every step (x: step 1 … T). */
function rewardChart(id: string, t: Trajectory, extra: ChartSeries[] = [], title = "Reward per step"): string {
  return lineChart({
    id,
    title,
    xLabel: "step",
    yLabel: "reward",
    series: [{ name: "reward", color: PALETTE[6]!, line: { x: steps(t.rewards.length, 1), y: t.rewards } }, ...extra],
  });
}

/** At most this many observation dimensions get a small chart each. */
const MAX_OBS_CHARTS = 32;

/** One small chart per observation dimension over the frames. */
function observationMultiples(id: string, t: Trajectory): { html: string; dims: number; shown: number } {
  const dims = t.observations[0]?.length ?? 0;
  const shown = Math.min(dims, MAX_OBS_CHARTS);
  const x = steps(t.observations.length);
  const charts: string[] = [];
  for (let d = 0; d < shown; d++) {
    charts.push(
      lineChart({ id: `${id}-obs${d}`, title: `observation[${d}]`, xLabel: "frame (steps taken)", yLabel: `obs[${d}]`, series: [{ name: `obs[${d}]`, color: PALETTE[d % PALETTE.length]!, line: { x, y: t.observations.map((o) => o[d]!) } }] }),
    );
  }
  return { html: `<div class="figures small">${charts.join("\n")}</div>`, dims, shown };
}

/** A MuJoCo episode: the torso's height, x position (and angle) over frames, and the reward terms over steps. */
function mujocoCharts(id: string, t: Trajectory, scene: MujocoScene): string {
  const x = steps(scene.qpos.length);
  const charts: string[] = [];
  const { height, x: xPlot, angle } = scene.plots;
  const qposChart = (key: string, title: string, p: QposPlot, unit: string, color: string) =>
    lineChart({ id: `${id}-${key}`, title, xLabel: "frame (steps taken)", yLabel: unit, series: [{ name: p.label, color, line: { x, y: scene.qpos.map((q) => q[p.index]!) } }] });
  if (height) charts.push(qposChart("height", "Torso height", height, "m", PALETTE[0]!));
  if (xPlot) charts.push(qposChart("x", "x position", xPlot, "m", PALETTE[1]!));
  if (angle) charts.push(qposChart("angle", "Angle", angle, "rad", PALETTE[2]!));
  const terms = Object.keys(t.info ?? {}).filter((k) => k.startsWith("reward_"));
  const series: ChartSeries[] = terms.map((k, i) => ({ name: k, color: PALETTE[i % 6]!, line: { x: steps(t.rewards.length, 1), y: nums(t.info![k]!) } }));
  charts.push(rewardChart(`${id}-rewards`, t, series, terms.length ? "Reward and its terms per step (env info)" : "Reward per step"));
  return `<div class="figures">${charts.join("\n")}</div>`;
}

// ---------------------------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------------------------

const STYLE = `
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;margin:24px auto;max-width:1340px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
.figures{display:flex;flex-wrap:wrap;gap:12px}.figures svg{width:400px;max-width:100%;height:auto;border:1px solid #eee}
.figures.small svg{width:300px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}.note{font-size:12px;color:#555;max-width:1000px}
.player svg{max-width:100%;height:auto;border:1px solid #ccc}.controls{display:flex;gap:10px;align-items:center;margin:6px 0 12px;font-size:13px}
.controls input{flex:0 1 420px}.readout{font-family:"DejaVu Sans Mono",monospace;font-size:12px}
.leg rect{fill:#8066e6;stroke:#4d4d80}.leg.contact rect{fill:#2ca02c}
`;

const fmt = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));
const fmtInterval = (i: Interval) => `${fmt(i.point)} [${fmt(i.lo)}, ${fmt(i.hi)}]`;

/** The statistics line `qttdm eval` prints and the page shows. */
export function statisticsLine(s: EpisodeStatistics | null | undefined, episodes: number): string {
  if (!s) return `IQM and confidence intervals not computed: a return is not a finite number`;
  return (
    `IQM return ${fmtInterval(s.iqm)}, mean return ${fmtInterval(s.mean)} ` +
    `(${Math.round(s.confidence * 100)}% CIs: stratified bootstrap over ${episodes} episode${episodes === 1 ? "" : "s"}, ${s.reps} resamples, seed ${s.seed}` +
    `${episodes === 1 ? "; one episode has no spread" : ""})`
  );
}

export interface ViewerOptions {
  /** Episodes drawn in full (the table lists all of them); default 20, to keep the page light. */
  maxEpisodes?: number;
}

/**
 * The viewer: a self-contained HTML page with the evaluation's statistics and per-episode table, then per
 * episode an animation (LunarLander: terrain, pad, lander and legs, engine flames, reward strip, play/pause
 * and a frame slider), or the body's height/x position and the reward terms (MuJoCo), or the reward (other
 * envs), and the observation dimensions as small multiples.
 */
export function trajectoryHtml(r: ViewerInput, opts: ViewerOptions = {}): string {
  const trajectories = r.trajectories ?? [];
  const max = opts.maxEpisodes ?? 20;
  const title = `qttdm eval: ${r.env}${r.checkpoint ? ` — ${r.checkpoint}` : ""}`;
  const rows = r.returns
    .map((ret, i) => `<tr><td>${i}</td><td>${r.seeds[i]}</td><td>${fmt(ret)}</td><td>${r.lengths[i]}</td><td>${i < Math.min(max, trajectories.length) ? `<a href="#episode-${i}">view</a>` : ""}</td></tr>`)
    .join("\n");
  const sections = trajectories.slice(0, max).map((t, e) => {
    const id = `ep${e}`;
    const head = `<section class="episode" id="episode-${e}" data-steps="${t.rewards.length}">\n<h2>Episode ${e} (seed ${r.seeds[e]}): return ${fmt(r.returns[e]!)}, ${t.rewards.length} steps</h2>`;
    const obs = observationMultiples(id, t);
    const obsNote = obs.shown < obs.dims ? ` (the first ${obs.shown} of ${obs.dims})` : "";
    const scene = t.scene;
    if (scene?.kind === "lunar-lander") {
      return `${head}
${landerPlayer(id, t, scene)}
<p class="note">Lander position and angle decoded from the observation; legs as the env's bodies held them; terrain and pad as the env drew them at reset. Engine flames from the actions. Legs turn green on ground contact.</p>
<details><summary>Observation dimensions${obsNote}</summary>${obs.html}</details>
</section>`;
    }
    if (scene?.kind === "mujoco") {
      return `${head}
${mujocoCharts(id, t, scene)}
<p class="note">Positions from the env's qpos at every frame (frame 0: the reset); reward terms from each step's info.</p>
<details><summary>Observation dimensions${obsNote}</summary>${obs.html}</details>
</section>`;
    }
    return `${head}
<div class="figures">${rewardChart(`${id}-rewards`, t)}</div>
<h3>Observation dimensions${obsNote}</h3>
${obs.html}
</section>`;
  });
  const omitted = trajectories.length > max ? `<p class="note">${trajectories.length - max === 1 ? `Episode ${max} is` : `Episodes ${max}–${trajectories.length - 1} are`} not drawn here (at most ${max}); the JSON file holds them all.</p>` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeXml(title)}</h1>
<p>${escapeXml(statisticsLine(r.statistics, r.returns.length))}</p>
<p class="note">Greedy evaluation on fixed seeds; mean ± std ${fmt(r.mean)} ± ${fmt(r.std)}. Intervals are percentile intervals of a stratified bootstrap over the episodes (rliable's definitions; episodes as runs, one task).</p>
<table><tr><th>episode</th><th>seed</th><th>return</th><th>length</th><th></th></tr>
${rows}</table>
${omitted}
${sections.join("\n")}
${sections.some((s) => s.includes('class="player"')) ? `<script>${PLAYER_SCRIPT}</script>` : ""}
</body></html>
`;
}
