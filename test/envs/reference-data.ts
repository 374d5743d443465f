/**
 * Gymnasium reference data: `../shared/reference/` beside the repository (as in CI and development
 * checkouts; see its README.md); QTTDM_REFERENCE_DIR overrides the location.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";

export const REFERENCE_DIR = process.env.QTTDM_REFERENCE_DIR ?? resolve(process.cwd(), "../shared/reference");

export function readReference<T>(relPath: string): T {
  const path = join(REFERENCE_DIR, relPath);
  if (!existsSync(path)) {
    throw new Error(`reference file ${path} is missing; set QTTDM_REFERENCE_DIR to the folder holding lunarlander/`);
  }
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

export function listReference(relDir: string): string[] {
  return readdirSync(join(REFERENCE_DIR, relDir)).filter((f) => f.endsWith(".json")).sort();
}

export interface ResetRef {
  seed: number;
  height_raw_draws: number[];
  height_after_helipad: number[];
  smooth_y: number[];
  chunk_x: number[];
  helipad_x1: number;
  helipad_x2: number;
  helipad_y: number;
  initial_force: [number, number];
  initial_obs: number[];
  initial_raw: number[];
  moon_edges_float32: [[number, number], [number, number]][];
  legs_after_reset: [number, number, number][];
}

export interface TrajectoryRef {
  seed: number;
  make_kwargs: { continuous?: boolean; enable_wind?: boolean; wind_power?: number; turbulence_power?: number };
  policy: string;
  initial_obs: number[];
  actions: (number | [number, number])[];
  obs: number[][];
  rewards: number[];
  terminated: boolean[];
  truncated: boolean[];
  raw: number[][];
  dispersion: [number, number][];
  return: number;
  length: number;
  end: string;
  wind_idx0?: number;
  torque_idx0?: number;
}

/** Every recorded trajectory, with the LunarLander options it was made with. */
export function trajectories(): { name: string; ref: TrajectoryRef; options: Record<string, unknown> }[] {
  const out: { name: string; ref: TrajectoryRef; options: Record<string, unknown> }[] = [];
  for (const dir of ["traj_lcg", "traj_heuristic", "traj_continuous_lcg", "traj_wind_lcg"]) {
    for (const f of listReference(`lunarlander/${dir}`)) {
      const ref = readReference<TrajectoryRef>(`lunarlander/${dir}/${f}`);
      const kw = ref.make_kwargs ?? {};
      const options: Record<string, unknown> = {};
      if (kw.continuous) options.continuous = true;
      if (kw.enable_wind) options.enableWind = true;
      if (kw.wind_power !== undefined) options.windPower = kw.wind_power;
      if (kw.turbulence_power !== undefined) options.turbulencePower = kw.turbulence_power;
      out.push({ name: `${dir}/${f}`, ref, options });
    }
  }
  return out;
}
