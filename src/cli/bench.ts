import type { CommandModule } from "yargs";
import { benchmarkNames, describeBenchmarks, runBenchmarks } from "../bench/index.js";

interface Args {
  names: string[];
  quick: boolean;
  backend?: string;
  steps?: number;
  seeds?: number;
  configs?: string[];
  torchThreads?: number;
  torch: boolean;
  profile: boolean;
  capacity?: number;
  rounds?: number;
}

export const benchCommand: CommandModule<object, Args> = {
  command: "bench <names..>",
  describe: "Run benchmarks; the last output line is one JSON object of figures",
  builder: (y) =>
    y
      .positional("names", { type: "string", array: true, choices: benchmarkNames(), demandOption: true, describe: `Benchmarks:\n${describeBenchmarks()}` })
      .option("quick", { type: "boolean", default: false, describe: "Short smoke run (figures only indicative)" })
      .option("torch-threads", { type: "number", describe: "learner: threads of the PyTorch reference (default 2)" })
      .option("torch", { type: "boolean", default: true, describe: "learner: also run the PyTorch reference when torch is installed (--no-torch: skip)" })
      .option("profile", { type: "boolean", default: false, describe: "learner: print per-kernel times" })
      .option("capacity", { type: "number", describe: "replay: buffer capacity (default 1,000,000)" })
      .option("rounds", { type: "number", describe: "replay: sample+update rounds per sampler" })
      .option("steps", { type: "number", describe: "dqn: env steps per run" })
      .option("seeds", { type: "number", describe: "dqn: seeds per preset" })
      .option("configs", { type: "string", array: true, describe: "dqn: presets to compare" })
      .option("backend", { type: "string", choices: ["auto", "tensorflow", "wasm", "cpu"], describe: "tfjs backend for learner benchmarks" })
      .example("$0 bench env", "environment throughput")
      .example("$0 bench learner --backend wasm", "learner workloads on wasm, with PyTorch ratios when torch is installed") as never,
  handler: async (args) => {
    await runBenchmarks(args.names, { quick: args.quick, options: {
        backend: args.backend,
        steps: args.steps,
        seeds: args.seeds,
        configs: args.configs,
        torchThreads: args.torchThreads,
        torch: args.torch,
        profile: args.profile,
        capacity: args.capacity,
        rounds: args.rounds,
      },
    });
  },
};
