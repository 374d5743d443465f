/** Options shared by several commands. */
import type { Argv } from "yargs";

export function withConfigOptions<T>(y: Argv<T>) {
  return y
    .option("config", { alias: "c", type: "string", describe: "Config YAML file or preset name (e.g. lunarlander/dqn-per)" })
    .option("set", { type: "string", array: true, default: [] as string[], describe: "Override a key: --set a.b.c=value (repeatable)" });
}
