/**
 * The body of `POST /act`, checked field by field. Every refusal names the field, the value (shortened) and what
 * was expected, and carries the HTTP status to answer with.
 */
/** Longest rendering of a request's value in a message. */
const MAX_SHOWN = 80;

/**
 * A request's value, shortened for a message: JSON-like, at most ~80 characters, walked with a depth and length
 * bound (core/errors.ts's `show` stringifies the whole value first, which a 200k-deep array overflows).
 */
export function brief(value: unknown): string {
  let out = "";
  const walk = (v: unknown, depth: number): void => {
    if (out.length > MAX_SHOWN) return;
    if (typeof v === "string") out += JSON.stringify(v.length > MAX_SHOWN ? v.slice(0, MAX_SHOWN) : v);
    else if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) out += String(v);
    else if (Array.isArray(v)) {
      if (depth > 3) return void (out += "[…]");
      out += "[";
      for (let i = 0; i < v.length && out.length <= MAX_SHOWN; i++) {
        if (i > 0) out += ",";
        walk(v[i], depth + 1);
      }
      out += "]";
    } else if (typeof v === "object") {
      if (depth > 3) return void (out += "{…}");
      out += "{";
      let i = 0;
      for (const k of Object.keys(v)) {
        if (out.length > MAX_SHOWN) break;
        if (i++ > 0) out += ",";
        out += `${JSON.stringify(k.slice(0, MAX_SHOWN))}:`;
        walk((v as Record<string, unknown>)[k], depth + 1);
      }
      out += "}";
    } else out += typeof v;
  };
  walk(value, 0);
  if (out.length > MAX_SHOWN) return `${out.slice(0, MAX_SHOWN)}…`;
  if (typeof value === "string" && value.length > MAX_SHOWN) return `${out.slice(0, -1)}…" (${value.length} characters)`;
  return out;
}

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
  if (!Array.isArray(row)) throw new BadRequest(400, `${field}: got ${brief(row)} (${kind(row)}), expected an array of ${obsDim} numbers`);
  if (row.length !== obsDim) {
    throw new BadRequest(400, `${field}: got ${row.length} values ${brief(row)}, expected ${obsDim} numbers (the policy's observation size)`);
  }
  for (let i = 0; i < obsDim; i++) {
    const v = row[i] as unknown;
    if (typeof v !== "number") throw new BadRequest(400, `${field}[${i}]: got ${brief(v)} (${kind(v)}), expected a finite number`);
    if (!(Math.abs(v) <= FLOAT32_MAX)) throw new BadRequest(400, `${field}[${i}]: got ${brief(v)}, expected a finite number within float32 range (|x| <= 3.4e38)`);
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
    throw new BadRequest(400, `body: got ${brief(body)} (${kind(body)}), expected a JSON object ${shape}`);
  }
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (!FIELDS.includes(k)) throw new BadRequest(400, `body: unknown field ${brief(k)}, expected only ${FIELDS.join(", ")}: ${shape}`);
  }
  const has1 = Object.hasOwn(b, "observation");
  const hasN = Object.hasOwn(b, "observations");
  if (has1 === hasN) {
    throw new BadRequest(400, `body: ${has1 ? "both" : "neither"} "observation" and "observations" given, expected exactly one: ${shape}`);
  }
  let qValues = false;
  if (Object.hasOwn(b, "q_values")) {
    if (typeof b.q_values !== "boolean") throw new BadRequest(400, `q_values: got ${brief(b.q_values)} (${kind(b.q_values)}), expected true or false`);
    qValues = b.q_values;
  }
  if (has1) {
    const obs = new Float32Array(obsDim);
    readRow(b.observation, "observation", obsDim, obs, 0);
    return { obs, rows: 1, batch: false, qValues };
  }
  const rows = b.observations;
  if (!Array.isArray(rows)) throw new BadRequest(400, `observations: got ${brief(rows)} (${kind(rows)}), expected an array of rows of ${obsDim} numbers`);
  if (rows.length === 0) throw new BadRequest(400, `observations: got an empty array, expected 1 to ${maxRows} rows of ${obsDim} numbers`);
  if (rows.length > maxRows) throw new BadRequest(413, `observations: got ${rows.length} rows, expected at most ${maxRows} (--max-rows); split the batch`);
  const obs = new Float32Array(rows.length * obsDim);
  for (let r = 0; r < rows.length; r++) readRow(rows[r], `observations[${r}]`, obsDim, obs, r * obsDim);
  return { obs, rows: rows.length, batch: true, qValues };
}
