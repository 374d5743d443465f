import type { CommandModule } from "yargs";
import { QttdmError } from "../core/errors.js";

export const replayCommand: CommandModule<object, object> = {
  command: "replay <action>",
  describe: "Inspect a replay snapshot or re-run its sampling schedule (frozen-buffer replay)",
  builder: (y) => y.positional("action", { type: "string", choices: ["inspect", "schedule"], demandOption: true }) as never,
  handler: async () => {
    throw new QttdmError("replay snapshots are not available yet in this version");
  },
};
