import type { CommandModule } from "yargs";
import YAML from "yaml";
import { envSpec, listEnvs } from "../envs/index.js";
import { describeSpace } from "../envs/spaces.js";
import { makeEnv } from "../envs/make.js";
import { rollout, type RolloutPolicy } from "../envs/rollout.js";

interface Args {
  action: "list" | "show" | "rollout";
  id?: string;
  env: string;
  policy: RolloutPolicy;
  episodes: number;
  seed: number;
  options?: string;
}

export const envCommand: CommandModule<object, Args> = {
  command: "env <action> [id]",
  describe: "List environments, show their spaces, run a short rollout",
  builder: (y) =>
    y
      .positional("action", { type: "string", choices: ["list", "show", "rollout"], demandOption: true })
      .positional("id", { type: "string", describe: "Environment id (for show)" })
      .option("env", { type: "string", default: "LunarLander-v3", describe: "Environment id (for rollout)" })
      .option("policy", { type: "string", choices: ["heuristic", "random"], default: "random", describe: "Rollout policy" })
      .option("episodes", { type: "number", default: 5, describe: "Rollout episodes (seeds seed..seed+N-1)" })
      .option("seed", { type: "number", default: 0, describe: "First episode seed" })
      .option("options", { type: "string", describe: "Env options as YAML/JSON, e.g. '{continuous: true}'" })
      .example("$0 env list", "every registered environment with its spaces")
      .example("$0 env show Humanoid-v5", "one environment's spaces and limits")
      .example("$0 env rollout --env LunarLander-v3 --policy heuristic --episodes 10 --seed 0", "Gymnasium's heuristic lander") as never,
  handler: async (args) => {
    const options = args.options ? (YAML.parse(args.options) as Record<string, unknown>) : {};
    if (args.action === "list") {
      for (const spec of listEnvs()) process.stdout.write(`${await describeEnv(spec.id, {})}\n`);
    } else if (args.action === "show") {
      process.stdout.write(`${await describeEnv(args.id ?? args.env, options)}\n`);
    } else {
      const r = await rollout({ env: args.env, policy: args.policy, episodes: args.episodes, seed: args.seed, options });
      r.returns.forEach((ret, i) =>
        process.stdout.write(`episode ${i} (seed ${args.seed + i}): return ${ret.toFixed(2)}, length ${r.lengths[i]}\n`),
      );
      process.stdout.write(`mean return over ${args.episodes} episodes: ${r.meanReturn.toFixed(2)} (mean length ${r.meanLength.toFixed(1)})\n`);
    }
  },
};

async function describeEnv(id: string, options: Record<string, unknown>): Promise<string> {
  const spec = envSpec(id);
  const env = await makeEnv(id, options);
  try {
    return [
      `${id}: ${spec.description}`,
      `  observation: ${describeSpace(env.observationSpace)}`,
      `  action:      ${describeSpace(env.actionSpace)}`,
      `  time limit:  ${spec.maxEpisodeSteps ?? "none"}, reward threshold: ${spec.rewardThreshold ?? "none"}`,
    ].join("\n");
  } finally {
    env.close();
  }
}
