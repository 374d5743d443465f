/**
 * Ape-X's initial priorities: an actor estimates each new transition's |δ| with its own (possibly stale)
 * copy of the critic before sending it. The agents expose per-sample Huber losses (`probeLosses`), which
 * are inverted here to |δ|: L = ½δ² for |δ| ≤ κ, κ(|δ| − ½κ) beyond. With an ensemble of heads the loss is
 * their mean, and the inverse is the |δ| of that mean loss.
 */
import type { Agent } from "../agents/types.js";
import type { Config } from "../config/schema.js";
import { ReplayBuffer } from "../replay/buffer.js";
import type { TransitionBatch } from "../replay/buffer.js";

/** |δ| whose Huber loss with threshold κ is `loss`. */
export function tdFromHuber(loss: number, kappa: number): number {
  return loss <= 0.5 * kappa * kappa ? Math.sqrt(2 * loss) : loss / kappa + 0.5 * kappa;
}

/**
 * Keeps an actor's recent transitions in a small uniform buffer of its own, so that a batch with the run's
 * n-step returns (cut short at the newest transition of a running episode) can be gathered for the probe.
 */
export class PriorityEstimator {
  private readonly scratch: ReplayBuffer;
  private readonly kappa: number;

  private constructor(private readonly agent: Agent & { probeLosses: NonNullable<Agent["probeLosses"]> }, config: Config, capacity: number) {
    const replay = { ...config.replay, capacity: Math.max(capacity, config.replay.nStep + 1), sampler: "uniform" as const, schedule: "fixed" as const, transport: "local" as const };
    this.scratch = new ReplayBuffer(agent.replaySpec(), replay);
    const kappa = (config.agent as { huberDelta?: number }).huberDelta;
    this.kappa = typeof kappa === "number" ? kappa : 1;
  }

  /** null when priorities are not used (a uniform sampler) or the agent has no critic probe. */
  static create(agent: Agent, config: Config, capacity: number): PriorityEstimator | null {
    if (config.replay.sampler === "uniform" || !agent.probeLosses) return null;
    return new PriorityEstimator(agent as Agent & { probeLosses: NonNullable<Agent["probeLosses"]> }, config, capacity);
  }

  add(batch: TransitionBatch): void {
    this.scratch.add(batch);
  }

  /** |δ| of the newest `k` transitions added, oldest first, into `out`. */
  estimate(k: number, out: Float32Array): void {
    const { scratch } = this;
    const indices = new Int32Array(k);
    for (let j = 0; j < k; j++) indices[j] = (scratch.added - k + j) % scratch.capacity;
    const losses = this.agent.probeLosses(scratch.gather(indices));
    for (let j = 0; j < k; j++) out[j] = tdFromHuber(losses[j]!, this.kappa);
  }
}
