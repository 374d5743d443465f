#!/usr/bin/env node
/** The `qttdm` command line. Each command lives in its own thin module; the work happens in the library. */
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { QttdmError } from "../core/errors.js";
import { benchCommand } from "./bench.js";
import { compareCommand } from "./compare.js";
import { docsCommand } from "./docs.js";
import { envCommand } from "./env.js";
import { evalCommand } from "./eval.js";
import { replayCommand } from "./replay.js";
import { trainCommand } from "./train.js";

export function buildCli(argv: string[]) {
  return yargs(argv)
    .scriptName("qttdm")
    .usage("$0 <command> [options]\n\nModel-based deep Q-learning: TDM + Q-Transformer + DQN critic on ReaPER+ replay.")
    .command(trainCommand)
    .command(evalCommand)
    .command(compareCommand)
    .command(benchCommand)
    .command(envCommand)
    .command(replayCommand)
    .command(docsCommand)
    .demandCommand(1, "Give a command: train, eval, compare, bench, env or replay (see --help).")
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

async function main(): Promise<void> {
  try {
    await buildCli(hideBin(process.argv)).parseAsync();
  } catch (err) {
    if (err instanceof QttdmError) {
      process.stderr.write(`qttdm: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

await main();
