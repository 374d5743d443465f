import type { CommandModule } from "yargs";
import { QttdmError } from "../core/errors.js";

interface Args {
  run: string;
  redis: string;
  index: number;
  incarnation?: number;
}

export const actorCommand: CommandModule<object, Args> = {
  command: "actor",
  describe: "Run an actor of a distributed run (replay.transport: redis) against its Redis server, e.g. on another machine",
  builder: (y) =>
    y
      .option("run", { type: "string", demandOption: true, describe: "The run directory (its config.yaml is enough: copy it to other machines)" })
      .option("redis", { type: "string", demandOption: true, describe: "The learner's Redis server: redis://host:port or unix:///path/to.sock" })
      .option("index", { type: "number", default: 0, describe: "This actor's index (seeds and logs); give each actor of a run its own" })
      .option("incarnation", { type: "number", describe: "Restart count of this index (fresh seeds and episode ids after a restart); default: drawn from a per-index counter on the server" })
      .example("$0 actor --run runs/LunarLander-v3__default__1__2026-12-06T03-00-00 --redis redis://learner:6379 --index 4", "a fifth actor on another machine") as never,
  handler: async (args) => {
    for (const [name, v] of [["index", args.index], ["incarnation", args.incarnation ?? 0]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new QttdmError(`--${name}: got ${v}, expected a non-negative integer`);
    }
    const { runActor } = await import("../distributed/actor.js");
    const print = (line: string) => process.stdout.write(`${line}\n`);
    const r = await runActor({ runDir: args.run, url: args.redis, index: args.index, incarnation: args.incarnation, print });
    print(`actor ${args.index}: stopped after sending ${r.sent} transitions in ${r.messages} messages`);
  },
};
