/**
 * Loading a run config: a YAML file (a path or a preset name such as `lunarlander/dqn-reaper`),
 * optional `extends:` chains, repeated `--set a.b.c=value` overrides (values parsed as YAML scalars),
 * then validation against the schema with errors that name the key path, the value and what was expected.
 *
 * The `agent` section's keys depend on `agent.kind`. A file or `--set` that changes the kind of the
 * config it builds on keeps only the agent keys that the new kind accepts (qttdm's preset extends
 * dqn-reaper's critic settings; `--set agent.kind=qttdm` on a dqn preset drops the dqn-only keys).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import YAML, { LineCounter, type Document } from "yaml";
import type { z } from "zod";
import { agentDefinition, kindsAccepting, listAgentKinds } from "../agents/registry.js";
import { ConfigError, clip, show } from "../core/errors.js";
import { configSchema, type Config } from "./schema.js";

/** The `configs/` directory shipped with the package (works from src/ and dist/). */
export const PRESETS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../configs");

/** The preset `qttdm train` uses when no --config is given. */
export const DEFAULT_PRESET = "lunarlander/dqn-reaper";

type Raw = Record<string, unknown>;

/** Keys that would reach or replace an object's prototype when assigned; never valid config keys. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);
const RESERVED_HINT = "__proto__, constructor and prototype are not allowed as config keys";

/** Problems listed in one "invalid config" error; the rest are counted. */
const MAX_LISTED_PROBLEMS = 20;

/**
 * Largest config file (or --set value) read, in bytes. Presets are under 4 KiB; parsing takes ~10 µs
 * per key, so the cap keeps a runaway file (50k keys is ~400 KiB) to an instant error instead of a
 * second or more of parsing and a megabyte-long message.
 */
export const MAX_CONFIG_BYTES = 256 * 1024;

export interface LoadOptions {
  /** Path to a YAML file, or a preset name relative to configs/ (with or without `.yaml`). */
  config?: string;
  /** `a.b.c=value` overrides applied in order after the file. */
  set?: string[];
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const raw = opts.config ? readConfigFile(resolveConfigPath(opts.config), []) : {};
  for (const assignment of opts.set ?? []) applyOverride(raw, assignment);
  return validateConfig(raw);
}

/** A path to an existing file, or a preset name under configs/. */
export function resolveConfigPath(nameOrPath: string, relativeTo = process.cwd()): string {
  const candidates = [resolve(relativeTo, nameOrPath)];
  if (!isAbsolute(nameOrPath)) {
    const preset = nameOrPath.endsWith(".yaml") ? nameOrPath : `${nameOrPath}.yaml`;
    candidates.push(resolve(relativeTo, preset), resolve(PRESETS_DIR, preset));
  }
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new ConfigError(
      `config file not found: ${show(nameOrPath)} (looked at ${candidates.map((c) => clip(c)).join(", ")}); ` +
        `expected a YAML file path or a preset name such as ${JSON.stringify(DEFAULT_PRESET)} (see \`ls ${PRESETS_DIR}\`)`,
    );
  }
  return found;
}

function readConfigFile(path: string, chain: string[]): Raw {
  if (chain.includes(path)) throw new ConfigError(`config "extends" cycle: ${[...chain, path].join(" -> ")}`);
  const size = statSync(path).size;
  if (size > MAX_CONFIG_BYTES) {
    throw new ConfigError(`config file ${path} is ${size} bytes; expected at most ${MAX_CONFIG_BYTES} (a run config is a few kilobytes)`);
  }
  let parsed = parseConfigYaml(readFileSync(path, "utf8"), `config file ${path}`);
  if (parsed === null || parsed === undefined) parsed = {};
  if (!isPlainObject(parsed)) throw new ConfigError(`config file ${path}: expected a mapping of keys at the top level, got ${show(parsed)}`);
  const { extends: base, ...rest } = parsed;
  if (base === undefined) return rest;
  if (typeof base !== "string") throw new ConfigError(`config key "extends" in ${path}: got ${show(base)}; expected a file path or preset name`);
  const inherited = readConfigFile(resolveConfigPath(base, dirname(path)), [...chain, path]);
  const kind = isPlainObject(rest.agent) ? rest.agent.kind : undefined;
  if (kind !== undefined) switchAgentKind(inherited, kind);
  return deepMerge(inherited, rest);
}

/**
 * Parses config YAML to plain data, for every reader of config files (`where` starts each error message).
 * Duplicate keys are found here with one Set per mapping (the yaml library's own check compares each key
 * with every earlier one: ~20 s for a 50k-key mapping), keys that could reach Object.prototype
 * (`__proto__`, `constructor`, `prototype`) are rejected anywhere, and text over MAX_CONFIG_BYTES is refused.
 */
export function parseConfigYaml(text: string, where: string, invalid = (detail: string) => `${where} is not valid YAML: ${detail}`): unknown {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_CONFIG_BYTES) throw new ConfigError(`${where}: ${bytes} bytes of YAML; expected at most ${MAX_CONFIG_BYTES}`);
  const lines = new LineCounter();
  const doc = YAML.parseDocument(text, { uniqueKeys: false, lineCounter: lines });
  for (const warning of doc.warnings) process.emitWarning(warning); // as YAML.parse does
  if (doc.errors.length > 0) throw new ConfigError(invalid(doc.errors[0]!.message));
  checkKeys(doc, where, lines);
  try {
    return doc.toJS();
  } catch (e) {
    throw new ConfigError(invalid((e as Error).message));
  }
}

function checkKeys(doc: Document, where: string, lines: LineCounter): void {
  YAML.visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        let key: unknown = pair.key;
        if (YAML.isAlias(key)) key = key.resolve(doc);
        if (!YAML.isScalar(key)) continue;
        const at = key.range ? lines.linePos(key.range[0]) : undefined;
        const pos = at ? ` at line ${at.line}, column ${at.col}` : "";
        if (typeof key.value === "string" && RESERVED_KEYS.has(key.value)) {
          throw new ConfigError(`${where}: key ${show(key.value)}${pos} is not allowed (${RESERVED_HINT})`);
        }
        if (seen.has(key.value)) throw new ConfigError(`${where}: duplicate key ${show(key.value)}${pos}; expected each key once per mapping`);
        seen.add(key.value);
      }
    },
  });
}

/** The agent kind a raw config selects (the first registered kind when it names none). */
function agentKindOf(raw: Raw): unknown {
  const agent = raw.agent;
  return isPlainObject(agent) && agent.kind !== undefined ? agent.kind : listAgentKinds()[0];
}

/** Drops the keys of `raw`'s agent section that the registered kind `kind` does not accept and `drop` selects. */
function dropAgentKeys(raw: Raw, kind: unknown, drop: (key: string, kind: string) => boolean): void {
  const agent = raw.agent;
  if (!isPlainObject(agent) || typeof kind !== "string" || !listAgentKinds().includes(kind)) return;
  const accepted = agentDefinition(kind).schema.shape;
  for (const key of Object.keys(agent)) if (!(key in accepted) && drop(key, kind)) delete agent[key];
}

/** Before `raw`'s agent kind becomes `kind`: drops the agent keys that `kind` does not accept. */
function switchAgentKind(raw: Raw, kind: unknown): void {
  if (kind !== agentKindOf(raw)) dropAgentKeys(raw, kind, () => true);
}

/**
 * The stored config of a run made before the agent section was per kind (its config.yaml holds every
 * kind's keys with their defaults): drops the agent keys that another registered kind declares and this
 * run's kind does not. A key that no kind declares stays, to be reported.
 */
export function dropOtherKindsAgentKeys(raw: Raw): void {
  dropAgentKeys(raw, agentKindOf(raw), (key, kind) => kindsAccepting(key, kind).length > 0);
}

/** Applies one `a.b.c=value` override; the value is parsed as a YAML scalar (or flow collection). */
export function applyOverride(raw: Raw, assignment: string): void {
  const where = `--set ${show(assignment)}`;
  const eq = assignment.indexOf("=");
  if (eq <= 0) throw new ConfigError(`${where}: expected key.path=value, e.g. replay.sampler=per`);
  const path = assignment.slice(0, eq).trim().split(".");
  if (path.some((p) => p === "")) throw new ConfigError(`${where}: empty segment in key path`);
  const reserved = path.find((p) => RESERVED_KEYS.has(p));
  if (reserved !== undefined) throw new ConfigError(`${where}: key path segment ${show(reserved)} is not allowed (${RESERVED_HINT})`);
  const value = parseConfigYaml(assignment.slice(eq + 1), where, (detail) => `${where}: value is not valid YAML: ${detail}`);
  if (path.length === 2 && path[0] === "agent" && path[1] === "kind") switchAgentKind(raw, value);
  let node = raw;
  for (const key of path.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (next === undefined) node[key] = {};
    else if (!isPlainObject(next)) throw new ConfigError(`${where}: ${show(key)} is ${show(next)}, not a section`);
    node = node[key] as Raw;
  }
  node[path[path.length - 1]!] = value;
}

/** Validates a raw object and returns the resolved config, or throws one ConfigError listing every problem. */
export function validateConfig(raw: unknown): Config {
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  const listed: string[] = [];
  let total = 0;
  for (const issue of result.error.issues) {
    const count = issue.code === "unrecognized_keys" ? issue.keys.length : 1;
    if (listed.length < MAX_LISTED_PROBLEMS) listed.push(...describeIssue(issue, MAX_LISTED_PROBLEMS - listed.length, raw));
    total += count;
  }
  if (total > listed.length) listed.push(`... and ${total - listed.length} more`);
  throw new ConfigError(`invalid config:\n  - ${listed.join("\n  - ")}`);
}

/** One line per problem, at most `limit` (an unrecognized_keys issue lists several keys). */
function describeIssue(issue: z.core.$ZodIssue, limit: number, raw: unknown): string[] {
  const at = clip(issue.path.join("."));
  const kind = isPlainObject(raw) ? agentKindOf(raw) : undefined;
  if (issue.code === "unrecognized_keys") {
    const known = keysAt(issue.path as PropertyKey[], kind);
    return issue.keys.slice(0, limit).map((k) => {
      const key = at ? `${at}.${clip(k)}` : clip(k);
      const others = at === "agent" && typeof kind === "string" ? kindsAccepting(k, kind) : [];
      if (others.length) return `config key "${key}" is not a key of agent.kind ${show(kind)}; agent.kind ${others.map((o) => show(o)).join(" or ")} accepts it`;
      const hint = closest(k, known);
      return `unknown config key "${key}"` + (hint ? `; did you mean "${at ? `${at}.${hint}` : hint}"?` : `; valid keys here: ${known.join(", ")}`);
    });
  }
  if (issue.code === "invalid_union" && (at === "agent" || at === "agent.kind")) {
    return [`config key "agent.kind": got ${show(kind)}; expected one of ${listAgentKinds().map((k) => JSON.stringify(k)).join(", ")}`];
  }
  const got = "input" in issue ? `got ${show(issue.input)}` : "missing";
  return [`config key "${at}": ${got}; ${expectation(issue)}`];
}

function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return `expected ${issue.expected}`;
    case "invalid_value":
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_small":
      return `expected ${issue.origin === "number" ? "a number" : issue.origin} ${issue.inclusive ? ">=" : ">"} ${issue.minimum}`;
    case "too_big":
      return `expected ${issue.origin === "number" ? "a number" : issue.origin} ${issue.inclusive ? "<=" : "<"} ${issue.maximum}`;
    default:
      return issue.message.replace(/^Invalid input: /, "");
  }
}

/** The keys the schema declares for the object at `path` (for "did you mean"), the agent's those of `kind`. */
function keysAt(path: PropertyKey[], kind: unknown): string[] {
  let node: z.ZodType | undefined = configSchema;
  for (const key of path) {
    const agentKind: boolean = node === configSchema && key === "agent" && typeof kind === "string" && listAgentKinds().includes(kind);
    node = agentKind ? agentDefinition(kind as string).schema : objectShape(node)?.[key as string];
  }
  return Object.keys(objectShape(node) ?? {});
}

function objectShape(node: z.ZodType | undefined): Record<string, z.ZodType> | undefined {
  let cur: any = node;
  while (cur && !cur.shape && cur._zod?.def?.innerType) cur = cur._zod.def.innerType;
  return cur?.shape;
}

export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestDist) [best, bestDist] = [c, d];
  }
  return bestDist <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

function isPlainObject(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function deepMerge(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Raw, v) : v;
  }
  return out;
}

/** The resolved config as YAML (what `--print-config` shows and config.yaml stores). */
export function configToYaml(config: Config): string {
  return YAML.stringify(config);
}
