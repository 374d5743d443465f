import type { CommandModule } from "yargs";
import { configDocsMarkdown } from "../config/docs.js";

export const docsCommand: CommandModule<object, { what: string }> = {
  command: "docs <what>",
  describe: "Print generated documentation (configs: the config reference, as in docs/configs.md)",
  builder: (y) => y.positional("what", { type: "string", choices: ["configs"], demandOption: true }) as never,
  handler: () => {
    process.stdout.write(configDocsMarkdown());
  },
};
