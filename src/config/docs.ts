/** Generates docs/configs.md from the schema, so the reference can never drift from the code. */
import { z } from "zod";
import { listAgents } from "../agents/registry.js";
import { configSchema } from "./schema.js";

interface JsonSchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchemaNode>;
  anyOf?: JsonSchemaNode[];
  oneOf?: JsonSchemaNode[];
  items?: JsonSchemaNode;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

export function configDocsMarkdown(): string {
  const root = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as JsonSchemaNode;
  const out: string[] = [
    "# Config reference",
    "",
    "<!-- Generated from src/config/schema.ts by `npm run docs`; a test fails when this file is stale. -->",
    "",
    "A run config is a YAML file (`configs/<env>/<name>.yaml`, or any path) passed with `--config`. A file may",
    "start from another with `extends: <path or preset>`; keys given later win. Override single keys on the",
    "command line with repeated `--set a.b.c=value` (values are parsed as YAML). `qttdm train --print-config`",
    "shows the resolved config. Unknown keys are errors.",
    "",
  ];
  for (const [section, node] of Object.entries(root.properties ?? {})) {
    out.push(`## \`${section}\``, "", node.description ?? "", "");
    if (section === "agent") agentSections(out);
    else table(section, node, out);
  }
  return out.join("\n");
}

/** One table per registered agent kind: each declares its own keys (src/agents/<kind>/config.ts). */
function agentSections(out: string[]): void {
  out.push(`\`agent.kind\` selects the agent (default \`${JSON.stringify(listAgents()[0]!.kind)}\`); each kind accepts only its own keys.`, "");
  for (const def of listAgents()) {
    out.push(`### \`agent.kind: ${def.kind}\``, "", `${def.description}. Action spaces: ${def.actionSpaces.join(", ")}.`, "");
    table("agent", z.toJSONSchema(def.schema, { io: "input", unrepresentable: "any" }) as JsonSchemaNode, out);
  }
}

function table(prefix: string, node: JsonSchemaNode, out: string[]): void {
  out.push("| key | type | default | description |", "|---|---|---|---|");
  rows(prefix, node, out);
  out.push("");
}

function rows(prefix: string, node: JsonSchemaNode, out: string[]): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const path = `${prefix}.${key}`;
    if (child.properties && Object.keys(child.properties).length > 0) {
      rows(path, child, out);
      continue;
    }
    const def = child.default === undefined ? "" : `\`${JSON.stringify(child.default)}\``;
    out.push(`| \`${path}\` | ${typeOf(child)} | ${def} | ${(child.description ?? "").replace(/\|/g, "\\|")} |`);
    // A key that may also be given as an object (e.g. agent.tdm: small | {layers, width, …}) lists the object's keys too.
    for (const alt of child.anyOf ?? child.oneOf ?? []) if (alt.properties) rows(path, alt, out);
  }
}

function typeOf(n: JsonSchemaNode): string {
  if (n.properties && Object.keys(n.properties).length > 0) return "object (keys below)";
  if (n.enum) return n.enum.map((v) => `\`${JSON.stringify(v)}\``).join(" \\| ");
  if (n.const !== undefined) return `\`${JSON.stringify(n.const)}\``;
  const alts = n.anyOf ?? n.oneOf;
  if (alts) return alts.map(typeOf).join(" \\| ");
  let t = Array.isArray(n.type) ? n.type.join(" \\| ") : (n.type ?? "any");
  if (t === "array" && n.items) t = `${typeOf(n.items)}[]`;
  const bounds: string[] = [];
  if (n.minimum !== undefined && n.minimum > -9e15) bounds.push(`≥ ${n.minimum}`);
  if (n.exclusiveMinimum !== undefined) bounds.push(`> ${n.exclusiveMinimum}`);
  if (n.maximum !== undefined && n.maximum < 9e15) bounds.push(`≤ ${n.maximum}`);
  if (n.exclusiveMaximum !== undefined) bounds.push(`< ${n.exclusiveMaximum}`);
  return bounds.length ? `${t} (${bounds.join(", ")})` : t;
}
