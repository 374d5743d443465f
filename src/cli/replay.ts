import type { CommandModule } from "yargs";
import { QttdmError } from "../core/errors.js";

interface Args {
  action: "inspect" | "schedule";
  file: string;
  steps?: number;
  seed: number;
  batchSize?: number;
  out?: string;
  json: boolean;
}

export const replayCommand: CommandModule<object, Args> = {
  command: "replay <action> <file>",
  describe: "Inspect a replay snapshot, or re-run its sampling schedule on the frozen buffer",
  builder: (y) =>
    y
      .positional("action", { type: "string", choices: ["inspect", "schedule"], demandOption: true })
      .positional("file", { type: "string", demandOption: true, describe: "Replay snapshot (e.g. runs/<run>/checkpoints/latest step/replay.bin)" })
      .option("steps", { type: "number", describe: "schedule: sampling steps to re-run" })
      .option("seed", { type: "number", default: 0, describe: "schedule: seed of the sampling Rng" })
      .option("batch-size", { type: "number", describe: "schedule: batch size (default: the buffer's last)" })
      .option("out", { type: "string", describe: "schedule: write JSON lines here (default: standard output)" })
      .option("json", { type: "boolean", default: false, describe: "inspect: print JSON instead of text" })
      .example("$0 replay inspect runs/<run>/checkpoints/step-000050000/replay.bin", "sizes, TD-error and reliability distributions")
      .example("$0 replay schedule replay.bin --steps 1000 --seed 1 --out sched.jsonl", "sampled reliabilities per step") as never,
  handler: async (args) => {
    const { inspectReplayFile, replayScheduleFile } = await import("../replay/frozen.js");
    if (args.action === "inspect") {
      const r = await inspectReplayFile(args.file);
      process.stdout.write(args.json ? `${JSON.stringify(r.json, null, 1)}\n` : `${r.text}\n`);
      return;
    }
    if (!args.steps || args.steps < 1) throw new QttdmError("replay schedule: --steps N (a positive integer) is required");
    const out = args.out ?? "/dev/stdout";
    const t = await replayScheduleFile(args.file, { steps: args.steps, seed: args.seed, batchSize: args.batchSize, out });
    if (args.out) process.stdout.write(`wrote ${t.steps} steps (batch ${t.batchSize}, from step ${t.startStep}) to ${args.out}\n`);
  },
};
