// Validation holes from issue 29 item 9: prototype keys, replay capacity against the batch and n-step,
// long values echoed into messages, and huge mappings (refused by size, or loaded without a quadratic key check).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { errorOf } from "../helpers/config.js";
import { MAX_CONFIG_BYTES, loadConfig, validateConfig } from "../../src/config/load.js";
import { show } from "../../src/core/errors.js";

const tmp = () => mkdtempSync(join(tmpdir(), "qttdm-holes-"));


/** Runs fn, then removes anything it leaked onto Object.prototype (so a failing test cannot poison others). */
function guardPrototype<T>(fn: () => T): T {
  const before = new Set(Object.getOwnPropertyNames(Object.prototype));
  try {
    return fn();
  } finally {
    const leaked = Object.getOwnPropertyNames(Object.prototype).filter((k) => !before.has(k));
    for (const k of leaked) delete (Object.prototype as Record<string, unknown>)[k];
    expect(leaked, "keys leaked onto Object.prototype").toEqual([]);
  }
}

describe("reserved keys (__proto__, constructor, prototype)", () => {
  it("are rejected as --set path segments, naming the segment", () => {
    for (const assignment of ["__proto__.polluted=1", "experiment.__proto__.polluted=1", "constructor.prototype.polluted=1", "env.options.prototype=1", "env.options.constructor=1"]) {
      const msg = guardPrototype(() => errorOf(() => loadConfig({ set: [assignment] })));
      expect(msg, assignment).toContain(`--set ${JSON.stringify(assignment)}`);
      expect(msg, assignment).toMatch(/"(__proto__|constructor|prototype)"/);
      expect(msg, assignment).toContain("not allowed");
      expect(msg.split("\n")).toHaveLength(1);
    }
  });

  it("are rejected as keys inside a --set value", () => {
    const msg = guardPrototype(() => errorOf(() => loadConfig({ set: ["env.options={__proto__: {polluted: 1}}"] })));
    expect(msg).toContain('"__proto__"');
    expect(msg).toContain("not allowed");
  });

  it("are rejected as keys anywhere in a config file, with the line", () => {
    const dir = tmp();
    writeFileSync(join(dir, "top.yaml"), "experiment: {seed: 2}\n__proto__:\n  polluted: 1\n");
    writeFileSync(join(dir, "nested.yaml"), "env:\n  options:\n    constructor: 3\n");
    writeFileSync(join(dir, "deep.yaml"), "env:\n  options:\n    a: [{b: {prototype: 1}}]\n");
    writeFileSync(join(dir, "child.yaml"), "extends: nested.yaml\nexperiment: {seed: 4}\n");
    writeFileSync(join(dir, "alias.yaml"), "env:\n  options:\n    x: &k __proto__\n    *k : {polluted: 1}\n");
    const cases = [["top.yaml", "__proto__", 2], ["nested.yaml", "constructor", 3], ["deep.yaml", "prototype", 3], ["child.yaml", "constructor", 3], ["alias.yaml", "__proto__", 3]] as const;
    for (const [file, key, line] of cases) {
      const msg = guardPrototype(() => errorOf(() => loadConfig({ config: join(dir, file) })));
      expect(msg, file).toContain(`"${key}"`);
      expect(msg, file).toContain(`line ${line}`);
      expect(msg, file).toContain("not allowed");
    }
  });

  it("still reports duplicate keys in a file, with the line", () => {
    const dir = tmp();
    writeFileSync(join(dir, "dup.yaml"), "experiment:\n  seed: 1\n  seed: 2\n");
    writeFileSync(join(dir, "dupflow.yaml"), "experiment: {seed: 1, name: a, seed: 2}\n");
    for (const file of ["dup.yaml", "dupflow.yaml"]) {
      const msg = errorOf(() => loadConfig({ config: join(dir, file) }));
      expect(msg, file).toContain('duplicate key "seed"');
      expect(msg, file).toMatch(/line (1|3)/);
    }
  });
});

describe("replay.capacity against the batch size and n-step", () => {
  it("rejects a capacity below train.batchSize, naming both keys and values", () => {
    const msg = errorOf(() => validateConfig({ replay: { capacity: 100 }, train: { batchSize: 128 } }));
    expect(msg).toContain('config key "replay.capacity": got 100');
    expect(msg).toContain("train.batchSize");
    expect(msg).toContain("128");
  });

  it("rejects a capacity below replay.nStep + 1, naming both keys and values", () => {
    const msg = errorOf(() => validateConfig({ replay: { capacity: 3, nStep: 3 }, train: { batchSize: 2 } }));
    expect(msg).toContain('config key "replay.capacity": got 3');
    expect(msg).toContain("replay.nStep");
    expect(msg).toContain("4");
  });

  it("accepts a capacity equal to the larger bound", () => {
    expect(validateConfig({ replay: { capacity: 128 }, train: { batchSize: 128 } }).replay.capacity).toBe(128);
    expect(validateConfig({ replay: { capacity: 4, nStep: 3 }, train: { batchSize: 4 } }).replay.capacity).toBe(4);
  });

  it("reports only the field's own error when the capacity itself is invalid", () => {
    const msg = errorOf(() => validateConfig({ replay: { capacity: -5 } }));
    expect(msg).toContain('config key "replay.capacity": got -5');
    expect(msg).not.toContain("train.batchSize");
  });
});

describe("eval.heldOut against eval's seeds", () => {
  it("rejects held-out seeds that overlap the evaluation seeds, naming both ranges", () => {
    const msg = errorOf(() => validateConfig({ eval: { seed: 100, episodes: 10, heldOut: { episodes: 5, seed: 108 } } }));
    expect(msg).toContain('config key "eval.heldOut.seed": got 108');
    expect(msg).toContain("held-out seeds 108..112 overlap the evaluation seeds 100..109");
  });

  it("accepts adjacent ranges, and any seed when there are no held-out episodes", () => {
    expect(validateConfig({ eval: { seed: 100, episodes: 10, heldOut: { episodes: 5, seed: 110 } } }).eval.heldOut).toEqual({ episodes: 5, seed: 110 });
    expect(validateConfig({ eval: { seed: 100, episodes: 10, heldOut: { seed: 100 } } }).eval.heldOut.episodes).toBe(0);
  });

  it("reports only the field's own error when a seed itself is invalid", () => {
    const msg = errorOf(() => validateConfig({ eval: { heldOut: { episodes: 5, seed: -1 } } }));
    expect(msg).toContain('config key "eval.heldOut.seed": got -1');
    expect(msg).not.toContain("overlap");
  });
});

describe("long values in error messages", () => {
  const long = "x".repeat(5000);

  it("show() caps strings at 200 characters with an ellipsis and the length", () => {
    const s = show(long);
    expect(s.length).toBeLessThan(240);
    expect(s).toContain("…");
    expect(s).toContain("5000");
    expect(show("short")).toBe('"short"');
  });

  it("caps a long --set value, key and assignment", () => {
    for (const set of [`experiment.seed=${long}`, `experiment.${long}=1`, `${long}`, `${long}.a=1`]) {
      const msg = errorOf(() => loadConfig({ set: [set] }));
      expect(msg.length, set.slice(0, 20)).toBeLessThan(1000);
    }
  });

  it("does not echo a whole file through extends:", () => {
    const dir = tmp();
    writeFileSync(join(dir, "notes.txt"), `${"lorem ipsum dolor ".repeat(500)}\n`);
    writeFileSync(join(dir, "a.yaml"), "extends: notes.txt\n");
    writeFileSync(join(dir, "b.yaml"), `extends: |\n  ${"lorem ipsum dolor ".repeat(500)}\n`);
    for (const file of ["a.yaml", "b.yaml"]) {
      const msg = errorOf(() => loadConfig({ config: join(dir, file) }));
      expect(msg.length, file).toBeLessThan(1500);
    }
  });
});

describe("huge mappings", () => {
  it("rejects a 50k-key file at once with a clear error", () => {
    const dir = tmp();
    let text = "env:\n  options:\n";
    for (let i = 0; i < 50_000; i++) text += `    k${i}: ${i}\n`;
    writeFileSync(join(dir, "big.yaml"), text);
    // Before the cap, the yaml library's quadratic duplicate-key check took ~20 s on this file here.
    const msg = errorOf(() => loadConfig({ config: join(dir, "big.yaml") }));
    expect(msg).toContain(`is ${Buffer.byteLength(text)} bytes; expected at most ${MAX_CONFIG_BYTES}`);
    expect(msg.split("\n")).toHaveLength(1);
  });

  // Speed is not asserted here (no timed unit tests): ~0.2 s with our per-mapping duplicate check against ~5 s
  // with the yaml library's quadratic one, measured on the 2-core development machine.
  it("loads the largest mapping that fits under the cap", () => {
    const dir = tmp();
    const keys = 20_000;
    const entries = Array.from({ length: keys }, (_, i) => `k${i}: ${i % 10}`);
    const text = `env: {options: {${entries.join(", ")}}}\n`;
    expect(Buffer.byteLength(text)).toBeLessThan(MAX_CONFIG_BYTES);
    writeFileSync(join(dir, "wide.yaml"), text);
    const c = loadConfig({ config: join(dir, "wide.yaml") });
    expect(Object.keys(c.env.options)).toHaveLength(keys);
  });

  it("lists a bounded number of problems for 50k unknown keys", () => {
    const raw = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i]));
    const msg = errorOf(() => validateConfig(raw));
    expect(msg).toContain('unknown config key "k0"');
    expect(msg).toContain("... and 49980 more");
    expect(msg.length).toBeLessThan(5000);
  });
});
