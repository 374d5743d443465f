import type { CommandModule } from "yargs";
import { QttdmError } from "../core/errors.js";

interface Args {
  checkpoint: string;
  episodes: number;
  record?: string;
}

export const evalCommand: CommandModule<object, Args> = {
  command: "eval",
  describe: "Evaluate a saved agent greedily on fixed seeds",
  builder: (y) =>
    y
      .option("checkpoint", { type: "string", demandOption: true, describe: "Checkpoint file or run directory" })
      .option("episodes", { type: "number", default: 5, describe: "Episodes (fixed seeds)" })
      .option("record", { type: "string", describe: "Write trajectories to this JSON file" })
      .example("$0 eval --checkpoint runs/<run>/checkpoints/last --episodes 10", "evaluate a run's last checkpoint") as never,
  handler: async () => {
    throw new QttdmError("evaluation of checkpoints is not available yet: no agent is implemented in this version");
  },
};
