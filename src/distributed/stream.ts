/**
 * The actors' side of the transition stream: back-pressure against the learner's insert limit and the atomic
 * append of one message (shared by `qttdm actor` and `bench distributed`'s producers).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { retrying, type Redis, type RunKeys } from "./redis.js";


/** An actor's connection to its run's keys. */
export interface StreamLink {
  redis: Redis;
  keys: RunKeys;
  url: string;
}

/**
 * Back-pressure: waits while the actors' sent transitions plus these k would pass the learner's insert limit.
 * @returns false when the run stops meanwhile (the stop key, or `stopping()`)
 */
export async function waitForRoom(link: StreamLink, k: number, stopping: () => boolean): Promise<boolean> {
  const { redis, keys } = link;
  for (let wait = 1; ; wait = Math.min(2 * wait, 20)) {
    const [limit, total, halt] = await retrying(link.url, () => redis.multi().hGet(keys.learner, "insertLimit").get(keys.sent).exists(keys.stop).exec());
    if (halt || stopping()) return false;
    if (Number(total ?? 0) + k <= Number(limit ?? 0)) return true;
    await sleep(wait);
  }
}

/**
 * Appends one message of k transitions (XADD MAXLEN ~) and counts them as sent, atomically, in one round trip
 * that also reads the learner's weights version and env steps.
 */
export async function sendMessage(link: StreamLink, message: Buffer, k: number, maxLen: number): Promise<{ version: number; envSteps: number }> {
  const { redis, keys } = link;
  const replies = await retrying(link.url, () =>
    redis
      .multi()
      .xAdd(keys.stream, "*", { m: message }, { TRIM: { strategy: "MAXLEN", strategyModifier: "~", threshold: maxLen } })
      .incrBy(keys.sent, k)
      .hmGet(keys.learner, ["version", "envSteps"])
      .exec(),
  );
  const [version, envSteps] = (replies[2] as unknown as (Buffer | null)[]).map((v) => Number(v ?? 0));
  return { version: version!, envSteps: envSteps! };
}
