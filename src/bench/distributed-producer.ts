/**
 * A producer of `bench distributed`: an actor without a policy. It records a pool of real LunarLander-v3
 * transitions (random actions), then sends them through the actors' stream code (stream.ts: back-pressure,
 * XADD + sent count) in packed messages, as fast as the transport takes them, until the learner stops.
 * Episode ids are renumbered on each pass over the pool, so that the learner sees fresh episodes.
 * argv: url runDir index batch; posts { sent } over IPC when done.
 */
import { Rng } from "../core/rng.js";
import { makeVectorEnv, sampleSpace } from "../envs/index.js";
import { encodeMessage, type ActorBatch } from "../distributed/codec.js";
import { connectRedis, RunKeys } from "../distributed/redis.js";
import { sendMessage, waitForRoom } from "../distributed/stream.js";
import { Collector } from "../train/collector.js";
import type { ReplaySpec } from "../replay/buffer.js";

const [url, runDir, index, batch] = [process.argv[2]!, process.argv[3]!, Number(process.argv[4]), Number(process.argv[5])];
const POOL = 64 * batch;
const vec = await makeVectorEnv("LunarLander-v3", 1);
const spec: ReplaySpec = { obsDim: vec.obsDim, action: { kind: "discrete", n: 4 }, gamma: 0.99 };
const collector = new Collector(vec, 1_000 * (index + 1));
const rng = new Rng(index + 1);
const d = vec.obsDim;
const pool = {
  obs: new Float32Array(POOL * d), nextObs: new Float32Array(POOL * d), action: new Int32Array(POOL), reward: new Float32Array(POOL),
  terminated: new Uint8Array(POOL), truncated: new Uint8Array(POOL), episodeId: new Int32Array(POOL), stepInEpisode: new Int32Array(POOL),
};
for (let t = 0; t < POOL; t++) {
  const { batch: b } = collector.step(Int32Array.of(sampleSpace(vec.actionSpace, rng) as number));
  pool.obs.set(b.obs, t * d);
  pool.nextObs.set(b.nextObs, t * d);
  pool.action[t] = b.action[0]!;
  pool.reward[t] = b.reward[0]!;
  pool.terminated[t] = b.terminated[0]!;
  pool.truncated[t] = b.truncated[0]!;
  pool.episodeId[t] = b.episodeId[0]!;
  pool.stepInEpisode[t] = b.stepInEpisode[0]!;
}
vec.close();
const redis = await connectRedis(url, `producer ${index}`, () => {});
const link = { redis, keys: new RunKeys(runDir), url };
process.send!({ ready: true });
let sent = 0;
let seq = 0;
const episodeStride = pool.episodeId[POOL - 1]! + 1;
for (let pass = 0; ; pass++) {
  let stop = false;
  for (let o = 0; o < POOL && !stop; o += batch) {
    const cut = <T extends { subarray(a: number, b: number): T }>(a: T, w = 1) => a.subarray(o * w, (o + batch) * w);
    const m: ActorBatch = {
      obs: cut(pool.obs, d), nextObs: cut(pool.nextObs, d), action: cut(pool.action), reward: cut(pool.reward),
      terminated: cut(pool.terminated), truncated: cut(pool.truncated),
      episodeId: cut(pool.episodeId).map((e) => e + pass * episodeStride), stepInEpisode: cut(pool.stepInEpisode),
      priority: new Float32Array(batch).fill(1), episodeReturn: new Float32Array(0), episodeLength: new Int32Array(0),
    };
    if (!(await waitForRoom(link, batch, () => false))) stop = true;
    else {
      await sendMessage(link, encodeMessage({ actor: index, incarnation: 0, seq: seq++, sentBefore: sent, weightsVersion: 0, batch: m }, spec), batch, 10_000);
      sent += batch;
    }
  }
  if (stop) break;
}
redis.destroy();
process.send!({ sent }, () => process.exit(0));
