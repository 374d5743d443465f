/**
 * Schedules over training steps, used by ε-greedy exploration, learning rates and replay annealing
 * (PER's β, ReaPER+'s α and β). A schedule is plain data (from config) plus `valueAt(step)`.
 */
export type ScheduleSpec =
  | { kind: "constant"; value: number }
  /** Linear from `start` to `end` over `duration` steps beginning at `begin`, then held at `end`. */
  | { kind: "linear"; start: number; end: number; duration: number; begin?: number }
  /** Half-cosine from `start` to `end` over `duration` steps beginning at `begin`, then held. */
  | { kind: "cosine"; start: number; end: number; duration: number; begin?: number }
  /** `start` multiplied by `factor` every `every` steps (from `begin`), never past `end` if given. */
  | { kind: "step"; start: number; factor: number; every: number; end?: number; begin?: number };

export function scheduleValue(spec: ScheduleSpec, step: number): number {
  switch (spec.kind) {
    case "constant":
      return spec.value;
    case "linear": {
      const f = fraction(step, spec.begin ?? 0, spec.duration);
      return spec.start + (spec.end - spec.start) * f;
    }
    case "cosine": {
      const f = fraction(step, spec.begin ?? 0, spec.duration);
      return spec.end + (spec.start - spec.end) * 0.5 * (1 + Math.cos(Math.PI * f));
    }
    case "step": {
      const k = Math.max(0, Math.floor((step - (spec.begin ?? 0)) / spec.every));
      const v = spec.start * Math.pow(spec.factor, k);
      if (spec.end === undefined) return v;
      return spec.factor < 1 ? Math.max(v, spec.end) : Math.min(v, spec.end);
    }
  }
}

/** Progress in [0, 1] through a window of `duration` steps starting at `begin`. */
function fraction(step: number, begin: number, duration: number): number {
  if (duration <= 0) return step >= begin ? 1 : 0;
  return Math.min(1, Math.max(0, (step - begin) / duration));
}

export function constant(value: number): ScheduleSpec {
  return { kind: "constant", value };
}
