/**
 * Moves of one network's weights towards another's that happen outside any loss, kept apart from
 * the learners as TorchRL keeps SoftUpdate/HardUpdate apart from DQNLoss: target networks (a hard
 * copy or a Polyak step every k updates) and the running weight average of a greedy policy.
 */
import type { Module, ParamMap } from "../nets/module.js";
import { copyWeights, polyakUpdate } from "../nets/weights.js";

type Weights = ParamMap | Module;

export interface TargetUpdateSpec {
  /** hard: copy; polyak: θ⁻ ← τθ + (1−τ)θ⁻. */
  mode: "hard" | "polyak";
  /** Updates between target moves. */
  every: number;
  /** Polyak rate (mode polyak). */
  tau: number;
}

export class TargetUpdate {
  constructor(
    private readonly online: Weights,
    private readonly target: Weights,
    private readonly spec: TargetUpdateSpec,
  ) {
    copyWeights(online, target);
  }

  /** Call after each gradient update with the number of updates made so far. */
  afterUpdate(updates: number): void {
    if (updates % this.spec.every !== 0) return;
    if (this.spec.mode === "hard") copyWeights(this.online, this.target);
    else polyakUpdate(this.online, this.target, this.spec.tau);
  }
}

/**
 * The exact mean of the online weights over the first `horizon` updates, then an exponential
 * average with rate 1/horizon (no history to keep in a checkpoint).
 */
export class WeightAverage {
  constructor(
    private readonly online: Weights,
    private readonly average: Weights,
    private readonly horizon: number,
  ) {
    copyWeights(online, average);
  }

  afterUpdate(updates: number): void {
    polyakUpdate(this.online, this.average, 1 / Math.min(updates, this.horizon));
  }
}
