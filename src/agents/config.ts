/** Agent configuration: which agent and its hyperparameters. */
import { z } from "zod";

export const agentConfigSchema = z
  .object({
    kind: z.enum(["dqn", "qttdm"]).default("dqn").describe("Agent: dqn (Double DQN critic) or qttdm (TDM + Q-Transformer + critic)."),
  })
  .strict();

export type AgentConfig = z.infer<typeof agentConfigSchema>;
