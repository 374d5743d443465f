import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import YAML from "yaml";
import { describe, expect, it } from "vitest";
import { errorOf } from "../helpers/config.js";
import { configDocsMarkdown } from "../../src/config/docs.js";
import { DEFAULT_PRESET, PRESETS_DIR, loadConfig, validateConfig } from "../../src/config/load.js";

const tmp = () => mkdtempSync(join(tmpdir(), "qttdm-config-"));


describe("config", () => {
  it("fills every default from an empty config", () => {
    const c = validateConfig({});
    expect(c.experiment.seed).toBe(1);
    expect(c.env.id).toBe("LunarLander-v3");
    expect(c.eval.every).toBe(10_000);
    expect(c.eval.episodes).toBe(5);
  });

  it("applies --set overrides parsed as YAML scalars, in order", () => {
    const c = loadConfig({ set: ["experiment.seed=7", "experiment.name=abc", "logging.tensorboard=false", "experiment.seed=8"] });
    expect(c.experiment.seed).toBe(8);
    expect(c.experiment.name).toBe("abc");
    expect(c.logging.tensorboard).toBe(false);
  });

  it("names the key, the value and the expected type for a wrong type", () => {
    const msg = errorOf(() => loadConfig({ set: ["experiment.seed=abc"] }));
    expect(msg).toContain('config key "experiment.seed"');
    expect(msg).toContain('got "abc"');
    expect(msg).toContain("expected number");
  });

  it("rejects unknown keys with a did-you-mean hint", () => {
    const msg = errorOf(() => loadConfig({ set: ["experiment.sed=3"] }));
    expect(msg).toContain('unknown config key "experiment.sed"');
    expect(msg).toContain('did you mean "experiment.seed"');
    expect(errorOf(() => validateConfig({ evall: {} }))).toContain('did you mean "eval"');
  });

  it("reports out-of-range values with the bound", () => {
    const msg = errorOf(() => loadConfig({ set: ["env.numEnvs=0"] }));
    expect(msg).toContain('config key "env.numEnvs": got 0');
    expect(msg).toContain(">= 1");
    expect(errorOf(() => loadConfig({ set: ["experiment.backend=gpu"] }))).toMatch(/expected one of "auto", "tensorflow", "libtorch", "wasm", "cpu"/);
  });

  it("reports a missing file by name", () => {
    const msg = errorOf(() => loadConfig({ config: "/nonexistent/x.yaml" }));
    expect(msg).toContain("config file not found");
    expect(msg).toContain("/nonexistent/x.yaml");
  });

  it("reports invalid YAML and a malformed --set", () => {
    const dir = tmp();
    writeFileSync(join(dir, "bad.yaml"), "a: [1, 2\n");
    expect(errorOf(() => loadConfig({ config: join(dir, "bad.yaml") }))).toContain("not valid YAML");
    expect(errorOf(() => loadConfig({ set: ["noequals"] }))).toContain("expected key.path=value");
  });

  it("follows extends chains, later keys winning, and detects cycles", () => {
    const dir = tmp();
    writeFileSync(join(dir, "base.yaml"), "experiment: {seed: 3, name: base}\n");
    writeFileSync(join(dir, "child.yaml"), "extends: base.yaml\nexperiment: {name: child}\n");
    const c = loadConfig({ config: join(dir, "child.yaml") });
    expect([c.experiment.seed, c.experiment.name]).toEqual([3, "child"]);
    writeFileSync(join(dir, "a.yaml"), "extends: b.yaml\n");
    writeFileSync(join(dir, "b.yaml"), "extends: a.yaml\n");
    expect(errorOf(() => loadConfig({ config: join(dir, "a.yaml") }))).toContain("cycle");
  });

  it("loads every preset in configs/ and the default preset exists", () => {
    const presets = readdirSync(PRESETS_DIR, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".yaml"));
    expect(presets).toContain(`${DEFAULT_PRESET}.yaml`);
    for (const p of presets) {
      const c = loadConfig({ config: join(PRESETS_DIR, p) });
      // The resolved config round-trips through YAML to itself.
      expect(validateConfig(YAML.parse(YAML.stringify(c)))).toEqual(c);
    }
  });

  it("docs/configs.md is generated from the schema and up to date (run `npm run docs`)", () => {
    expect(readFileSync("docs/configs.md", "utf8")).toBe(configDocsMarkdown());
  });
});
