import { writeFileSync } from "node:fs";
import { extname } from "node:path";
import type { CommandModule } from "yargs";
import { seedRangesOverlap } from "../config/schema.js";
import { ConfigError, show } from "../core/errors.js";
import { heldOutPath, readRunConfig, runRootOf, writeHeldOut } from "../train/run-dir.js";

interface Args {
  checkpoint: string;
  // Declared without `type: "number"` (which turns `abc` into NaN) so that an error shows what was typed.
  episodes: unknown;
  seed?: unknown;
  record?: string;
  online?: boolean;
  save?: boolean;
}

/**
 * The value of an integer option, or a one-line error naming the option, the value and what was expected.
 * (Checked in the handler: yargs rewraps errors thrown from `coerce`, which the CLI then prints with a stack.)
 */
export function integerOption(name: string, value: unknown, min: 0 | 1): number {
  const given = Array.isArray(value) ? value[value.length - 1] : value; // a repeated option: the last wins
  const n = typeof given === "number" ? given : typeof given === "string" && /^\s*[+-]?\d+\s*$/.test(given) ? Number(given) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new ConfigError(`--${name} ${show(given)}: expected a ${min === 1 ? "positive" : "non-negative"} integer`);
  }
  return n;
}

/**
 * Where `--record FILE` writes: FILE ending in .html (or .htm) is the viewer, with the JSON beside it (FILE with
 * the extension .json); any other FILE is the JSON alone, as before.
 */
export function recordTargets(file: string): { json: string; html: string | null } {
  const ext = extname(file);
  if (!/^\.html?$/i.test(ext)) return { json: file, html: null };
  return { json: `${file.slice(0, -ext.length)}.json`, html: file };
}

export const evalCommand: CommandModule<object, Args> = {
  command: "eval",
  describe: "Evaluate a saved agent greedily on fixed seeds",
  builder: (y) =>
    y
      .option("checkpoint", { type: "string", demandOption: true, describe: "Run directory, its checkpoints/, its checkpoints/latest pointer or one checkpoint directory" })
      .option("episodes", { describe: "Episodes (seeds seed..seed+N-1), a positive integer (default 5; with --save, the run's eval.heldOut.episodes where set)" })
      .option("seed", { describe: "First seed (default: the run's eval.seed; with --save, its eval.heldOut.seed), a non-negative integer" })
      .option("record", {
        type: "string",
        describe:
          "Write the results with per-step trajectories to this JSON file; a FILE ending in .html gets a self-contained viewer " +
          "(LunarLander: an animation per episode; MuJoCo: torso height, x position and reward terms over time) and the JSON beside it, as FILE.json",
      })
      .option("online", { type: "boolean", default: false, describe: "Act with the online critic instead of its weight average (runs with agent.average)" })
      .option("save", {
        type: "boolean",
        default: false,
        describe: "Keep the result as the run's held-out evaluation (eval/held-out.json, as config eval.heldOut writes at the end of training), which `qttdm report` and compare's summary show",
      })
      .example("$0 eval --checkpoint runs/<run> --episodes 10", "evaluate a run's latest checkpoint")
      .example("$0 eval --checkpoint runs/<run>/checkpoints/step-000050000 --record traj.json", "record trajectories")
      .example("$0 eval --checkpoint runs/<run> --episodes 3 --record traj.html", "view them: writes traj.html and traj.json")
      .example("$0 eval --checkpoint runs/<run> --episodes 100 --save", "a held-out evaluation of a finished run, for qttdm report") as never,
  handler: async (args) => {
    let episodes = args.episodes === undefined ? 5 : integerOption("episodes", args.episodes, 1);
    let seed = args.seed === undefined ? undefined : integerOption("seed", args.seed, 0);
    if (args.save) {
      // The held-out score is the main greedy policy's, as the trainer's (eval.heldOut) is, on seeds training never evaluated.
      if (args.online) throw new ConfigError("--save keeps the run's held-out evaluation, which is of its main greedy policy; expected --save without --online");
      const { eval: ev } = readRunConfig(args.checkpoint);
      if (args.episodes === undefined && ev.heldOut.episodes > 0) episodes = ev.heldOut.episodes;
      seed ??= ev.heldOut.seed;
      if (seedRangesOverlap({ seed, episodes }, ev)) {
        throw new ConfigError(`--seed ${seed} with --episodes ${episodes} --save: seeds ${seed}..${seed + episodes - 1} overlap the run's evaluation seeds ${ev.seed}..${ev.seed + ev.episodes - 1}; expected held-out seeds (default: its eval.heldOut.seed, ${ev.heldOut.seed})`);
      }
    }
    const { evaluateCheckpoint, heldOutResult } = await import("../train/evaluate.js");
    const r = await evaluateCheckpoint({ checkpoint: args.checkpoint, episodes, seed, record: !!args.record, mode: args.online ? "greedy-online" : "greedy" });
    r.returns.forEach((ret, i) => process.stdout.write(`episode ${i} (seed ${r.seeds[i]}): return ${ret.toFixed(2)}, length ${r.lengths[i]}\n`));
    process.stdout.write(`checkpoint ${r.checkpoint}: mean return ${r.mean.toFixed(2)} ± ${r.std.toFixed(2)} over ${episodes} episodes\n`);
    const { statisticsLine, trajectoryHtml } = await import("../report/trajectory.js");
    process.stdout.write(`${statisticsLine(r.statistics, episodes)}\n`);
    if (args.save) {
      const root = runRootOf(r.checkpoint);
      writeHeldOut(root, heldOutResult(r.step, r.seeds[0]!, r));
      process.stdout.write(`held-out evaluation written to ${heldOutPath(root)}\n`);
    }
    if (args.record) {
      // Results are printed first: a file that cannot be written (a full disk, a directory) loses nothing else.
      const target = recordTargets(args.record);
      const html = target.html === null ? null : trajectoryHtml(r);
      writeFileSync(target.json, JSON.stringify(r));
      process.stdout.write(`trajectories written to ${target.json}\n`);
      if (target.html !== null) {
        writeFileSync(target.html, html!);
        process.stdout.write(`viewer written to ${target.html}\n`);
      }
    }
  },
};
