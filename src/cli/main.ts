#!/usr/bin/env node
/** The `qttdm` command line. Each command lives in its own thin module; the work happens in the library. */
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { fileSystemError, QttdmError } from "../core/errors.js";
import { actorCommand } from "./actor.js";
import { benchCommand } from "./bench.js";
import { compareCommand } from "./compare.js";
import { docsCommand } from "./docs.js";
import { envCommand } from "./env.js";
import { evalCommand } from "./eval.js";
import { exportCommand } from "./export.js";
import { replayCommand } from "./replay.js";
import { reportCommand } from "./report.js";
import { serveCommand } from "./serve.js";
import { trainCommand } from "./train.js";

export function buildCli(argv: string[]) {
  return yargs(argv)
    .scriptName("qttdm")
    .usage("$0 <command> [options]\n\nModel-based deep Q-learning: TDM + Q-Transformer + DQN critic on ReaPER+ replay.")
    .command(trainCommand)
    .command(evalCommand)
    .command(exportCommand)
    .command(compareCommand)
    .command(reportCommand)
    .command(benchCommand)
    .command(envCommand)
    .command(replayCommand)
    .command(docsCommand)
    .command(serveCommand)
    .command(actorCommand)
    .demandCommand(1, "Give a command: train, actor, eval, compare, report, export, serve, bench, env or replay (see --help).")
    .recommendCommands()
    .strict()
    .example("$0 train", "train the default agent (configs/lunarlander/dqn-reaper.yaml)")
    .example("$0 train --config lunarlander/dqn-per --set experiment.seed=3", "another preset, another seed")
    .example("$0 env list", "list environments and their spaces")
    .help()
    .alias("h", "help")
    .version()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      if (err && !(err instanceof QttdmError)) throw err;
      process.stderr.write(`qttdm: ${err ? err.message : msg}\n${err ? "" : `Run "qttdm --help" for usage.\n`}`);
      process.exit(2);
    });
}

/**
 * Every error ends here, none escapes as an unhandled rejection: the wasm backend installs a process-wide
 * handler that re-throws those, which printed a stack into tf-backend-wasm.node.js and exited 7.
 * @returns the exit status: 2 for bad input and file-system errors (one line), 1 for anything else (a bug: with its stack)
 */
export function reportError(err: unknown): number {
  const e = fileSystemError(err);
  if (e instanceof QttdmError) {
    process.stderr.write(`qttdm: ${e.message}\n`);
    return 2;
  }
  process.stderr.write(`qttdm: internal error (please report it): ${(e as Error)?.stack ?? String(e)}\n`);
  return 1;
}

async function main(): Promise<void> {
  try {
    await buildCli(hideBin(process.argv)).parseAsync();
  } catch (err) {
    process.exit(reportError(err));
  }
}

await main();
