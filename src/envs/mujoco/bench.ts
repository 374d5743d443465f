/**
 * Humanoid-v5 throughput, for `qttdm bench env`: env steps/s with uniform random actions (resetting
 * on termination, as a collector would), next to the raw `mj_step` rate of the same model under the
 * same kind of episodes, which bounds it at `raw / frameSkip`.
 */
import { Rng } from "../../core/rng.js";
import { sampleSpace } from "../spaces.js";
import { HumanoidEnv } from "./humanoid.js";
import { compileAsset, loadMujoco } from "./module.js";

export interface HumanoidBenchFigures {
  [key: string]: number;
  humanoid_steps_per_s: number;
  /** Raw `mj_step` calls/s on the humanoid model with random controls, restarted every 20 env steps' worth. */
  humanoid_mj_step_per_s: number;
  /** Episodes ended by termination during the timed env steps (random actions fall within ~20 steps). */
  humanoid_episodes: number;
}

export async function benchHumanoid(opts: { steps: number; seed?: number; log?: (line: string) => void }): Promise<HumanoidBenchFigures> {
  const mj = await loadMujoco();
  const rng = new Rng(opts.seed ?? 0);
  const env = new HumanoidEnv(mj);
  let stepsPerS: number;
  let episodes = 0;
  try {
    env.reset({ seed: 0 });
    for (let i = 0; i < Math.min(200, opts.steps); i++) if (env.step(sampleSpace(env.actionSpace, rng) as Float32Array).terminated) env.reset();
    env.reset({ seed: 1 });
    const t0 = performance.now();
    for (let i = 0; i < opts.steps; i++) {
      if (env.step(sampleSpace(env.actionSpace, rng) as Float32Array).terminated) {
        env.reset();
        episodes++;
      }
    }
    stepsPerS = opts.steps / ((performance.now() - t0) / 1000);
  } finally {
    env.close();
  }
  opts.log?.(`Humanoid-v5: ${stepsPerS.toFixed(0)} env steps/s over ${opts.steps} random-action steps (${episodes} episodes ended)`);

  const model = compileAsset(mj, "humanoid.xml");
  const data = new mj.MjData(model);
  let rawPerS: number;
  try {
    const ctrl = data.ctrl as Float64Array;
    const nRaw = opts.steps * env.frameSkip;
    const t0 = performance.now();
    for (let i = 0; i < nRaw; i++) {
      if (i % 100 === 0) mj.mj_resetData(model, data);
      for (let j = 0; j < ctrl.length; j++) ctrl[j] = rng.uniform(-0.4, 0.4);
      mj.mj_step(model, data);
    }
    rawPerS = nRaw / ((performance.now() - t0) / 1000);
  } finally {
    data.delete();
    model.delete();
  }
  opts.log?.(`Humanoid model: ${rawPerS.toFixed(0)} raw mj_step/s (bound ${(rawPerS / env.frameSkip).toFixed(0)} env steps/s)`);
  return { humanoid_steps_per_s: Math.round(stepsPerS), humanoid_mj_step_per_s: Math.round(rawPerS), humanoid_episodes: episodes };
}
