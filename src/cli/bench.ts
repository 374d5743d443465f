import type { CommandModule } from "yargs";
import { benchmarkNames, describeBenchmarks, runBenchmarks } from "../bench/index.js";

interface Args {
  names: string[];
  quick: boolean;
  backend?: string;
  steps?: number;
  seeds?: number;
  configs?: string[];
}

export const benchCommand: CommandModule<object, Args> = {
  command: "bench <names..>",
  describe: "Run benchmarks; the last output line is one JSON object of figures",
  builder: (y) =>
    y
      .positional("names", { type: "string", array: true, choices: benchmarkNames(), demandOption: true, describe: `Benchmarks:\n${describeBenchmarks()}` })
      .option("quick", { type: "boolean", default: false, describe: "Short smoke run (figures only indicative)" })
      .option("steps", { type: "number", describe: "dqn: env steps per run" })
      .option("seeds", { type: "number", describe: "dqn: seeds per preset" })
      .option("configs", { type: "string", array: true, describe: "dqn: presets to compare" })
      .option("backend", { type: "string", choices: ["auto", "tensorflow", "wasm", "cpu"], describe: "tfjs backend for learner benchmarks" })
      .example("$0 bench env", "environment throughput")
      .example("$0 bench learner --backend wasm", "learner workloads on wasm, with PyTorch ratios when torch is installed") as never,
  handler: async (args) => {
    await runBenchmarks(args.names, { quick: args.quick, options: { backend: args.backend, steps: args.steps, seeds: args.seeds, configs: args.configs } });
  },
};
