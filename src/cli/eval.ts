import { writeFileSync } from "node:fs";
import type { CommandModule } from "yargs";

interface Args {
  checkpoint: string;
  episodes: number;
  seed?: number;
  record?: string;
  online?: boolean;
}

export const evalCommand: CommandModule<object, Args> = {
  command: "eval",
  describe: "Evaluate a saved agent greedily on fixed seeds",
  builder: (y) =>
    y
      .option("checkpoint", { type: "string", demandOption: true, describe: "Run directory, its checkpoints/, its checkpoints/latest pointer or one checkpoint directory" })
      .option("episodes", { type: "number", default: 5, describe: "Episodes (seeds seed..seed+N-1)" })
      .option("seed", { type: "number", describe: "First seed (default: the run's eval.seed)" })
      .option("record", { type: "string", describe: "Write the results with per-step trajectories to this JSON file" })
      .option("online", { type: "boolean", default: false, describe: "Act with the online critic instead of its weight average (runs with agent.average)" })
      .example("$0 eval --checkpoint runs/<run> --episodes 10", "evaluate a run's latest checkpoint")
      .example("$0 eval --checkpoint runs/<run>/checkpoints/step-000050000 --record traj.json", "record trajectories") as never,
  handler: async (args) => {
    const { evaluateCheckpoint } = await import("../train/evaluate.js");
    const r = await evaluateCheckpoint({ checkpoint: args.checkpoint, episodes: args.episodes, seed: args.seed, record: !!args.record, mode: args.online ? "greedy-online" : "greedy" });
    r.returns.forEach((ret, i) => process.stdout.write(`episode ${i} (seed ${r.seeds[i]}): return ${ret.toFixed(2)}, length ${r.lengths[i]}\n`));
    process.stdout.write(`checkpoint ${r.checkpoint}: mean return ${r.mean.toFixed(2)} ± ${r.std.toFixed(2)} over ${args.episodes} episodes\n`);
    if (args.record) {
      writeFileSync(args.record, JSON.stringify(r));
      process.stdout.write(`trajectories written to ${args.record}\n`);
    }
  },
};
