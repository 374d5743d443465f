/**
 * The body of `POST /act`, checked field by field. Every refusal names the field, the value (shortened) and what
 * was expected, and carries the HTTP status to answer with.
 */
import { show } from "../core/errors.js";

/** Largest finite float32: observations beyond it would become ±Infinity in the network. */
export const FLOAT32_MAX = 3.4028234663852886e38;

export class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ActRequest {
  /** Observations, rows × obsDim. */
  obs: Float32Array;
  rows: number;
  /** `observations` (a batch, answered with `actions`) rather than `observation`. */
  batch: boolean;
  qValues: boolean;
}

const FIELDS = ["observation", "observations", "q_values"];

/** What a JSON value is, for messages. */
function kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/** Writes one observation row into `out` at `offset`. */
function readRow(row: unknown, field: string, obsDim: number, out: Float32Array, offset: number): void {
  if (!Array.isArray(row)) throw new BadRequest(400, `${field}: got ${show(row)} (${kind(row)}), expected an array of ${obsDim} numbers`);
  if (row.length !== obsDim) {
    throw new BadRequest(400, `${field}: got ${row.length} values ${show(row)}, expected ${obsDim} numbers (the policy's observation size)`);
  }
  for (let i = 0; i < obsDim; i++) {
    const v = row[i] as unknown;
    if (typeof v !== "number") throw new BadRequest(400, `${field}[${i}]: got ${show(v)} (${kind(v)}), expected a finite number`);
    if (!(Math.abs(v) <= FLOAT32_MAX)) throw new BadRequest(400, `${field}[${i}]: got ${show(v)}, expected a finite number within float32 range (|x| <= 3.4e38)`);
    out[offset + i] = v;
  }
}

/**
 * @param body the parsed JSON body
 * @param maxRows the most rows one request may carry (more: 413)
 * @throws BadRequest
 */
export function parseActRequest(body: unknown, obsDim: number, maxRows: number): ActRequest {
  const shape = `{"observation": [${obsDim} numbers]} or {"observations": [[${obsDim} numbers], ...]}, optionally with "q_values": true`;
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new BadRequest(400, `body: got ${show(body)} (${kind(body)}), expected a JSON object ${shape}`);
  }
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (!FIELDS.includes(k)) throw new BadRequest(400, `body: unknown field ${show(k)}, expected only ${FIELDS.join(", ")}: ${shape}`);
  }
  const has1 = Object.hasOwn(b, "observation");
  const hasN = Object.hasOwn(b, "observations");
  if (has1 === hasN) {
    throw new BadRequest(400, `body: ${has1 ? "both" : "neither"} "observation" and "observations" given, expected exactly one: ${shape}`);
  }
  let qValues = false;
  if (Object.hasOwn(b, "q_values")) {
    if (typeof b.q_values !== "boolean") throw new BadRequest(400, `q_values: got ${show(b.q_values)} (${kind(b.q_values)}), expected true or false`);
    qValues = b.q_values;
  }
  if (has1) {
    const obs = new Float32Array(obsDim);
    readRow(b.observation, "observation", obsDim, obs, 0);
    return { obs, rows: 1, batch: false, qValues };
  }
  const rows = b.observations;
  if (!Array.isArray(rows)) throw new BadRequest(400, `observations: got ${show(rows)} (${kind(rows)}), expected an array of rows of ${obsDim} numbers`);
  if (rows.length === 0) throw new BadRequest(400, `observations: got an empty array, expected 1 to ${maxRows} rows of ${obsDim} numbers`);
  if (rows.length > maxRows) throw new BadRequest(413, `observations: got ${rows.length} rows, expected at most ${maxRows} (--max-rows); split the batch`);
  const obs = new Float32Array(rows.length * obsDim);
  for (let r = 0; r < rows.length; r++) readRow(rows[r], `observations[${r}]`, obsDim, obs, r * obsDim);
  return { obs, rows: rows.length, batch: true, qValues };
}
