/**
 * Cache warming for the random gathers of a replay batch (transition records, big tree levels).
 *
 * A draw from a million transitions is bound by memory latency, which the CPU hides only while it
 * can run ahead and issue the loads of later items before earlier ones return. The loops that use
 * the data keep it from doing so: a branch on a loaded value that is mispredicted while the load
 * misses discards the work issued after it, and long per-item bodies (copies, bookkeeping) fill
 * the reorder window after a few items. A loop that only loads has neither problem, so its misses
 * overlap and the loops after it read from cache: on the 1M-transition benchmark this halved the
 * time of the record gathers of `sample`.
 */

/** Where the loads' sum goes: a sum nobody reads would let the compiler drop the loads. */
const sink = { value: 0 };

/**
 * Load the first and the last element of the span a[at[b] * scale + offset + k], k < span, for
 * b < n, skipping negative at[b]: every cache line of a span no longer than one line plus one
 * element, wherever it begins (records and groups of children rarely start on a line boundary).
 */
export function touch(a: Float32Array | Float64Array, at: Int32Array, n: number, scale: number, offset: number, span: number): void {
  let t = 0;
  for (let b = 0; b < n; b++) {
    const i = at[b]!;
    if (i >= 0) {
      const o = i * scale + offset;
      t += a[o]! + a[o + span - 1]!;
    }
  }
  sink.value = t;
}

/** Load one element per cache line of a[from..to] (32-bit elements): a range about to be scanned. */
export function touchRange(a: Float32Array, from: number, to: number): void {
  let t = 0;
  for (let k = from; k <= to; k += 16) t += a[k]!;
  sink.value = t + a[to]!;
}
