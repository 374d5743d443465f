/**
 * Benchmarks (`npm run bench -- <name>` or `qttdm bench <name>`). Each benchmark prints progress
 * lines through `ctx.log` and returns its figures; the runner prints them as one JSON object on the
 * last line, with units in the key names (e.g. `steps_per_s`, `rss_mb`).
 */
export interface BenchContext {
  /** Shorter runs (smoke check); figures are then indicative only. */
  quick: boolean;
  /** Extra `--key value` options given on the command line. */
  options: Record<string, unknown>;
  log(line: string): void;
}

export type BenchFigures = Record<string, number | string | boolean | null>;

export interface Benchmark {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchFigures>;
}
