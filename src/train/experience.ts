/**
 * Where the trainer's transitions come from. Local: the trainer's own collector steps the vector env with the
 * agent's explore actions (the single-process trainer). Distributed (src/distributed/learner.ts): actor
 * processes send them through Redis and the rate limiter sets the updates. Either way the source puts the
 * transitions into the replay buffer and says how many env steps and which finished episodes they were.
 */
import type { Agent, Scalars } from "../agents/types.js";
import type { Config } from "../config/schema.js";
import type { Rng } from "../core/rng.js";
import { QttdmError } from "../core/errors.js";
import type { ReplayBuffer } from "../replay/buffer.js";
import { updatesDue } from "./cadence.js";
import type { Collector } from "./collector.js";
import type { TrainerState } from "./trainer-state.js";

export interface Collected {
  /** Env steps the inserted transitions account for (0: nothing arrived). */
  steps: number;
  episodes: { return: number; length: number }[];
}

export interface ExperienceSource {
  /** Inserts the next transitions into the buffer. @param progress the trainer's env steps and updates so far */
  collect(progress: { envSteps: number; updates: number }): Collected | Promise<Collected>;
  /** Updates to run now, after env steps went from `before` to `after` with `updates` made so far. */
  updatesDue(before: number, after: number, updates: number): number;
  /** The source's part of the trainer state (checkpoints). */
  state(): Pick<TrainerState, "collector" | "distributed">;
  /** Scalars for the log (`distributed/*`); the local source has none. */
  scalars(): Scalars;
  /** Ends the session (actors, servers); the envs are the trainer's. */
  close(): Promise<void>;
}

export class LocalExperience implements ExperienceSource {
  constructor(
    private readonly collector: Collector,
    private readonly agent: Agent,
    private readonly buffer: ReplayBuffer,
    private readonly actRng: Rng,
    private readonly cadence: Config["train"],
  ) {}

  collect(progress: { envSteps: number }): Collected {
    const actions = this.agent.act(this.collector.obs, this.collector.n, "explore", progress.envSteps, this.actRng);
    const { batch, result } = this.collector.step(actions);
    this.buffer.add(batch);
    return { steps: this.collector.n, episodes: result.info.episodes };
  }

  updatesDue(before: number, after: number): number {
    return updatesDue(before, after, this.cadence);
  }

  state() {
    return { collector: this.collector.state() };
  }

  restore(t: TrainerState, source: string): void {
    if (!t.collector) throw new QttdmError(`cannot resume from ${source}: its trainer state has no collector (a run of replay.transport: redis?)`);
    this.collector.restore(t.collector);
  }

  scalars(): Scalars {
    return {};
  }

  async close(): Promise<void> {}
}
