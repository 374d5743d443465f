import type { CommandModule } from "yargs";

interface Args {
  configs: string[];
  seeds: number;
  steps?: number;
  set: string[];
  out?: string;
  workers?: number;
  summarise: boolean;
}

export const compareCommand: CommandModule<object, Args> = {
  command: "compare",
  describe: "Train several configs over several seeds and summarise them side by side",
  builder: (y) =>
    y
      .option("configs", { type: "string", array: true, demandOption: true, describe: "Config files or preset names" })
      .option("seeds", { type: "number", default: 5, describe: "Seeds per config (1..seeds); more than an earlier --out's adds seeds to it" })
      .option("steps", { type: "number", describe: "Override experiment.totalSteps" })
      .option("set", { type: "string", array: true, default: [] as string[], describe: "Override a key in every config (repeatable)" })
      .option("out", { type: "string", describe: "Output directory (default runs/compare__<timestamp>): new, empty, or an earlier run of the same comparison" })
      .option("workers", { type: "number", describe: "Runs in parallel (default: core count)" })
      .option("summarise", { type: "boolean", default: false, describe: "Only summarise the runs already in --out (finished or not); train nothing" })
      .example("$0 compare --configs lunarlander/dqn-uniform lunarlander/dqn-reaper --seeds 5 --steps 200000", "baseline vs ReaPER+")
      .example("$0 compare --configs lunarlander/dqn-uniform lunarlander/dqn-reaper --seeds 5 --steps 200000 --out runs/cmp", "run again with the same --out to resume: finished runs are kept, interrupted ones (Ctrl-C saves a checkpoint) resumed")
      .example("$0 compare --configs lunarlander/dqn-uniform lunarlander/dqn-reaper --seeds 5 --steps 200000 --out runs/cmp --summarise", "summarise what is there so far") as never,
  handler: async (args) => {
    const { compare } = await import("../train/compare.js");
    const { interrupted } = await compare({ configs: args.configs, seeds: args.seeds, steps: args.steps, set: args.set, out: args.out, workers: args.workers, summariseOnly: args.summarise });
    // Stopped by a signal (the runs saved their checkpoints): the shell's status for that signal.
    if (interrupted) process.exit(interrupted === "SIGINT" ? 130 : 143);
  },
};
