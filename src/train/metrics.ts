/** Averages of scalars over a logging window (e.g. the mean TD loss of the updates since the last log). */
export class ScalarWindow {
  private sums = new Map<string, number>();
  private counts = new Map<string, number>();

  add(scalars: Record<string, number>): void {
    for (const [k, v] of Object.entries(scalars)) {
      if (!Number.isFinite(v)) continue;
      this.sums.set(k, (this.sums.get(k) ?? 0) + v);
      this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    }
  }

  /** The means since the last drain; empties the window. */
  drain(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, s] of this.sums) out[k] = s / this.counts.get(k)!;
    this.sums.clear();
    this.counts.clear();
    return out;
  }

  state(): { sums: [string, number][]; counts: [string, number][] } {
    return { sums: [...this.sums], counts: [...this.counts] };
  }

  load(s: { sums: [string, number][]; counts: [string, number][] }): void {
    this.sums = new Map(s.sums);
    this.counts = new Map(s.counts);
  }
}

export function meanStd(xs: ArrayLike<number>): { mean: number; std: number } {
  const n = xs.length;
  if (n === 0) return { mean: NaN, std: NaN };
  let m = 0;
  for (let i = 0; i < n; i++) m += xs[i]!;
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (xs[i]! - m) ** 2;
  return { mean: m, std: Math.sqrt(v / n) };
}
