import type { CommandModule } from "yargs";
import { benchmarkNames, describeBenchmarks, runBenchmarks } from "../bench/index.js";

interface Args {
  names: string[];
  quick: boolean;
  backend?: string;
  backends?: string;
  baseline?: string;
  actors?: number;
  config?: string;
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
      .option("torch-threads", { type: "number", describe: "learner: threads of the PyTorch reference and its BLAS pool (default 1)" })
      .option("torch", { type: "boolean", default: true, describe: "learner: also run the PyTorch reference when torch is installed (--no-torch: skip)" })
      .option("profile", { type: "boolean", default: false, describe: "learner: print per-kernel times of W1, W3 and a lunarlander/qttdm update, per backend" })
      .option("capacity", { type: "number", describe: "replay: buffer capacity (default 1,000,000)" })
      .option("rounds", { type: "number", describe: "replay: sample+update rounds per sampler" })
      .option("steps", { type: "number", describe: "dqn, train: env steps per run" })
      .option("seeds", { type: "number", describe: "dqn: seeds per preset" })
      .option("configs", { type: "string", array: true, describe: "dqn: presets to compare" })
      .option("config", { type: "string", describe: "train: preset to time; distributed: preset to project (default lunarlander/dqn-reaper)" })
      .option("backend", { type: "string", choices: ["auto", "tensorflow", "libtorch", "wasm", "cpu"], describe: "learner, train: measure only this backend (default: wasm, and libtorch when built)" })
      .option("backends", { type: "string", describe: "learner, train: comma-separated backends to measure, e.g. wasm,libtorch" })
      .option("baseline", { type: "string", describe: "train: a built earlier qttdm checkout to time on its wasm backend beside these" })
      .option("actors", { type: "number", describe: "train: also run each backend distributed with this many actor processes (replay.transport: redis; needs redis-server)" })
      .example("$0 bench env", "environment throughput")
      .example("$0 bench learner", "learner workloads on wasm and libtorch, with PyTorch ratios when torch is installed")
      .example("$0 bench train --config lunarlander/qttdm --steps 3000", "training env steps/s on wasm and libtorch")
      .example("$0 bench train --config humanoid/qttdm --steps 8000 --backends libtorch --actors 1", "single process against learner + 1 actor") as never,
  handler: async (args) => {
    await runBenchmarks(args.names, { quick: args.quick, options: {
        backend: args.backend,
        backends: args.backends,
        baseline: args.baseline,
        actors: args.actors,
        config: args.config,
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
