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

/** Reading or writing a file or directory failed (permissions, a full disk, a file where a directory belongs). */
export class FileSystemError extends QttdmError {}

/**
 * Node's error of a file-system call as a FileSystemError, naming `what` (e.g. "the TensorBoard event file
 * runs/x/events…") where Node's message has no path (writes to an open file); other errors unchanged.
 */
export function fileSystemError(err: unknown, what?: string): unknown {
  const e = err as NodeJS.ErrnoException;
  if (e instanceof QttdmError || typeof e?.code !== "string" || typeof e.syscall !== "string") return err;
  return new FileSystemError(what ? `cannot ${e.syscall} ${what}: ${e.message}` : e.message);
}

/** Training diverged (NaN/Inf loss or Q-values). */
export class DivergenceError extends QttdmError {
  /** The run directory of the stopped run, where the trainer knows it. */
  constructor(message: string, readonly runDir?: string) {
    super(message);
  }
}

/** Longest string, in characters, that error messages quote whole. */
export const MAX_SHOWN_CHARS = 200;

/** `text` cut to `max` characters with an ellipsis and the original length, so a message never echoes a whole file. */
export function clip(text: string, max = MAX_SHOWN_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

/** Shorthand for printing a value in an error message (strings quoted and capped at 200 characters, JSON at 120). */
export function show(value: unknown): string {
  if (typeof value === "string") {
    return value.length > MAX_SHOWN_CHARS ? `${JSON.stringify(value.slice(0, MAX_SHOWN_CHARS))}… (${value.length} characters)` : JSON.stringify(value);
  }
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined) return String(value);
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<number>).length})`;
  try {
    const s = JSON.stringify(value);
    return s.length > 120 ? s.slice(0, 117) + "..." : s;
  } catch {
    return String(value);
  }
}
