/**
 * The `distributed` and `redis` config sections (actors in their own processes feeding one learner through
 * Redis; docs/distributed.md). `replay.transport` (local | redis) is declared with the replay section.
 * Keys left null are derived from the train section by `rateLimits` (rate-limiter.ts), so that by default the
 * distributed run keeps the single-process run's update-to-data ratio.
 */
import { z } from "zod";

export const distributedSchema = z
  .object({
    actors: z.number().int().min(0).max(1024).default(0)
      .describe("Actor processes the learner starts and supervises (restarted when they die); 0 with replay.transport: local is the single-process trainer, unchanged; 0 with redis: the learner starts none and trains on what `qttdm actor` processes elsewhere send."),
    samplesPerInsert: z.number().positive().nullable().default(null)
      .describe("Reverb's SampleToInsertRatio: sampled transitions (updates × train.batchSize) per inserted transition; null: the single-process ratio train.batchSize · train.gradientSteps / train.trainFreq."),
    minSizeToSample: z.number().int().min(1).nullable().default(null)
      .describe("Inserted transitions before the learner samples (Reverb's min_size_to_sample); null: max(train.learningStarts, train.batchSize)."),
    errorBuffer: z.number().positive().nullable().default(null)
      .describe("How far, in sampled transitions, inserts and samples may drift from samplesPerInsert before the learner waits for data or actors wait for the learner (Reverb's error_buffer); null: 2 · (train.batchSize + samplesPerInsert · distributed.actorBatch · max(1, actors))."),
    weightSyncEvery: z.number().int().min(1).default(100)
      .describe("The learner publishes its weights every this many updates; actors load them when they see a newer version."),
    actorBatch: z.number().int().min(1).max(65_536).default(64)
      .describe("Transitions an actor packs into one stream message (its unsent batch is what a killed actor loses)."),
    streamMaxLen: z.number().int().min(16).default(10_000)
      .describe("Approximate cap on the stream's messages (XADD MAXLEN ~); actors wait while more than half of it is unread, and unread messages trimmed anyway are counted as lost."),
  })
  .strict();

export const redisSchema = z
  .object({
    url: z.string().min(1).nullable().default(null)
      .describe("Redis server of replay.transport: redis, as redis://host:port or unix:///path/to.sock; null: train starts a private redis-server (unix socket in the run directory, no persistence) and stops it on exit."),
  })
  .strict();

export type DistributedConfig = z.infer<typeof distributedSchema>;
export type RedisConfig = z.infer<typeof redisSchema>;
