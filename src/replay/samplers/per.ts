/**
 * per: proportional prioritised replay (Schaul et al. 2016), leaf p_i^α. A transition's leaf is set
 * when it is written (so a never-reported one keeps the running max priority of that moment) and
 * when it is reported; ρ plays no part.
 */
import { floorLeaf, powPositive, PrioritisedSampler } from "./prioritised.js";

export class PerSampler extends PrioritisedSampler {
  readonly beta = 0;
  readonly usesReliability = false;

  get alpha(): number {
    return this.config.alpha;
  }

  protected leaf(i: number): number {
    return floorLeaf(powPositive(this.stats.priority(i), this.config.alpha));
  }

  prepare(): boolean {
    return false;
  }

  reliabilityChanged(): void {}
}
