/** The ε-greedy schedule of `agent.exploration`, shared by the dqn agent and the qttdm agent. */
import { scheduleValue, type ScheduleSpec } from "../core/schedule.js";
import type { ExplorationConfig } from "./dqn/config.js";

export class EpsilonSchedule {
  private readonly spec: ScheduleSpec;

  /** @param totalSteps the run's env steps; ε decays over `fraction` of them */
  constructor(ex: ExplorationConfig, totalSteps: number) {
    this.spec = { kind: ex.shape, start: ex.start, end: ex.end, duration: Math.round(ex.fraction * totalSteps) };
  }

  at(step: number): number {
    return scheduleValue(this.spec, step);
  }
}
