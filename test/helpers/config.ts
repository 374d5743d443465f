import { expect } from "vitest";
import { ConfigError } from "../../src/core/errors.js";

/** The message of the ConfigError `fn` throws (failing the test if it throws anything else, or nothing). */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected a ConfigError");
}
