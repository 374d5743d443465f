/** Small numeric helpers on typed arrays that several learners share. */

export function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return a.length ? s / a.length : 0;
}

/** One-hot rows [n · k] of n action indices in [0, k). */
export function oneHot(actions: ArrayLike<number>, n: number, k: number): Float32Array {
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) out[i * k + actions[i]!] = 1;
  return out;
}
