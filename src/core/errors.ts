/**
 * Error types. Every message says what was given, what was expected, and where,
 * so that a researcher can fix a config or call without reading the source.
 */
export class QttdmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A config file, override or option failed validation. */
export class ConfigError extends QttdmError {}

/** An environment was misused (bad action, step after end, unknown id). */
export class EnvError extends QttdmError {}

/** A file (checkpoint, replay snapshot, weights) is missing, corrupt or incompatible. */
export class FileFormatError extends QttdmError {}

/** Training diverged (NaN/Inf loss or Q-values). */
export class DivergenceError extends QttdmError {
  /** The run directory of the stopped run, where the trainer knows it. */
  constructor(message: string, readonly runDir?: string) {
    super(message);
  }
}

/** Shorthand for printing a value in an error message. */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined) return String(value);
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<number>).length})`;
  try {
    const s = JSON.stringify(value);
    return s.length > 120 ? s.slice(0, 117) + "..." : s;
  } catch {
    return String(value);
  }
}
