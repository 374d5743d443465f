import type { CommandModule } from "yargs";
import { DEFAULT_PRESET, configToYaml, loadConfig } from "../config/load.js";
import { QttdmError } from "../core/errors.js";
import { RESUMABLE_KEYS, resumeConfig } from "../train/run-dir.js";
import { SIGNAL_EXIT_CODES, withConfigOptions } from "./common.js";

interface Args {
  config?: string;
  set: string[];
  printConfig: boolean;
  resume?: string;
}

export const trainCommand: CommandModule<object, Args> = {
  command: "train",
  describe: "Train an agent (default: DQN with ReaPER+ replay on LunarLander-v3)",
  builder: (y) =>
    withConfigOptions(y)
      .option("print-config", { type: "boolean", default: false, describe: "Print the resolved config and exit" })
      .option("resume", {
        type: "string",
        describe: `Continue the run in this run directory from its last checkpoint; --set may change ${RESUMABLE_KEYS.join(", ")}`,
      })
      .example("$0 train", `train with configs/${DEFAULT_PRESET}.yaml`)
      .example("$0 train --config lunarlander/dqn-uniform --set experiment.seed=2", "a preset with an override")
      .example("$0 train --print-config --set replay.sampler=per", "show the resolved config")
      .example("$0 train --config hopper/sac", "another agent kind (dqn, qttdm, sac): keys per kind in docs/configs.md")
      .example("$0 train --resume runs/LunarLander-v3__default__1__2026-11-25T09-30-00", "resume a run")
      .example("$0 train --resume runs/<run> --set experiment.totalSteps=400000", "resume and train longer") as never,
  handler: async (args) => {
    if (args.resume !== undefined) {
      if (args.resume.trim() === "") throw new QttdmError("--resume: got an empty path (an unset shell variable?); expected a run directory or a checkpoint inside one");
      if (args.config !== undefined) throw new QttdmError(`--config ${JSON.stringify(args.config)} cannot be combined with --resume: a resumed run keeps its own config.yaml (change ${RESUMABLE_KEYS.join(", ")} with --set)`);
      const config = resumeConfig(args.resume, args.set);
      if (args.printConfig) {
        process.stdout.write(configToYaml(config));
        return;
      }
      const { train } = await import("../train/trainer.js");
      const summary = await train({ config, resume: args.resume, overrides: args.set });
      if (summary.signal) process.exitCode = SIGNAL_EXIT_CODES[summary.signal];
      return;
    }
    const config = loadConfig({ config: args.config ?? DEFAULT_PRESET, set: args.set });
    if (args.printConfig) {
      process.stdout.write(configToYaml(config));
      return;
    }
    const { train } = await import("../train/trainer.js");
    const summary = await train({ config });
    if (summary.signal) process.exitCode = SIGNAL_EXIT_CODES[summary.signal];
  },
};
