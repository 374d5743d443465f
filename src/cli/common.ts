/** Options shared by several commands. */
import type { Argv } from "yargs";

export function withConfigOptions<T>(y: Argv<T>) {
  return y
    .option("config", { alias: "c", type: "string", describe: "Config YAML file or preset name (e.g. lunarlander/dqn-per)" })
    .option("set", { type: "string", array: true, default: [] as string[], describe: "Override a key: --set a.b.c=value (repeatable)" });
}

/**
 * Exit statuses of a run stopped by a signal after saving its checkpoint: 128 + the signal number, as a shell
 * reports a process the signal killed (0 is a finished run, 2 bad input).
 */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
