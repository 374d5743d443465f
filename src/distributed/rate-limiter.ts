/**
 * Reverb's SampleToInsertRatio rate limiter (Cassirer et al. 2021), counted in transitions: samples are
 * sampled transitions (updates × train.batchSize), inserts are transitions put into the buffer. With
 * offset = samplesPerInsert · minSizeToSample, the learner may sample while
 * inserts · spi − samples ≥ offset − errorBuffer (and inserts ≥ minSizeToSample), and actors may insert while
 * inserts · spi − samples ≤ offset + errorBuffer. So the update-to-data ratio is the config's whichever side
 * is faster: the slower one sets the pace and the other waits.
 */
import type { Config } from "../config/schema.js";
import { ConfigError } from "../core/errors.js";

export interface RateLimits {
  samplesPerInsert: number;
  minSizeToSample: number;
  errorBuffer: number;
}

/** The limiter's settings with the null (derived) keys of `distributed` filled in from `train`. */
export function rateLimits(config: Pick<Config, "train" | "distributed">): RateLimits {
  const { train, distributed: d } = config;
  const samplesPerInsert = d.samplesPerInsert ?? (train.batchSize * train.gradientSteps) / train.trainFreq;
  const minSizeToSample = d.minSizeToSample ?? Math.max(train.learningStarts, train.batchSize);
  const burst = train.batchSize + samplesPerInsert * d.actorBatch * Math.max(1, d.actors);
  const errorBuffer = d.errorBuffer ?? 2 * burst;
  // One update and one message must fit in the window 2 · errorBuffer, or neither side could ever move.
  const need = (train.batchSize + samplesPerInsert * d.actorBatch) / 2;
  if (errorBuffer < need) {
    throw new ConfigError(
      `distributed.errorBuffer: got ${errorBuffer}, expected >= (train.batchSize + samplesPerInsert · distributed.actorBatch) / 2 = ${need}, or the learner and the actors would wait for each other forever`,
    );
  }
  return { samplesPerInsert, minSizeToSample, errorBuffer };
}

export class SampleToInsertRatio {
  constructor(readonly limits: RateLimits) {}

  private get offset(): number {
    return this.limits.samplesPerInsert * this.limits.minSizeToSample;
  }

  /** Updates of `batchSize` sampled transitions the learner may make now. */
  updatesAllowed(inserts: number, samples: number, batchSize: number): number {
    const { samplesPerInsert, minSizeToSample, errorBuffer } = this.limits;
    if (inserts < minSizeToSample) return 0;
    const room = inserts * samplesPerInsert - samples - (this.offset - errorBuffer);
    return Math.max(0, Math.floor(room / batchSize));
  }

  /** The total inserted transitions actors may reach before they wait (inserts · spi − samples ≤ offset + errorBuffer). */
  insertLimit(samples: number): number {
    const { samplesPerInsert, errorBuffer } = this.limits;
    return Math.floor((samples + this.offset + errorBuffer) / samplesPerInsert);
  }
}
