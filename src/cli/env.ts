import type { CommandModule } from "yargs";

export const envCommand: CommandModule<object, object> = {
  command: "env <action>",
  describe: "List environments, show their spaces, run a short rollout",
  builder: (y) => y.positional("action", { type: "string", choices: ["list", "show", "rollout"], demandOption: true }) as never,
  handler: async () => {
    throw new Error("env command not wired yet");
  },
};
