import type { CommandModule } from "yargs";
import { QttdmError } from "../core/errors.js";

interface Args {
  configs: string[];
  seeds: number;
  steps?: number;
}

export const compareCommand: CommandModule<object, Args> = {
  command: "compare",
  describe: "Train several configs over several seeds and summarise them side by side",
  builder: (y) =>
    y
      .option("configs", { type: "string", array: true, demandOption: true, describe: "Config files or preset names" })
      .option("seeds", { type: "number", default: 5, describe: "Seeds per config (1..seeds)" })
      .option("steps", { type: "number", describe: "Override experiment.totalSteps" })
      .example("$0 compare --configs lunarlander/dqn-uniform lunarlander/dqn-reaper --seeds 5 --steps 200000", "baseline vs ReaPER+") as never,
  handler: async () => {
    throw new QttdmError("compare is not available yet: no agent is implemented in this version");
  },
};
