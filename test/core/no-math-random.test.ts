import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

it("library code never calls Math.random() (randomness goes through the seeded Rng)", () => {
  const offenders = files("src").filter((f) => /Math\.random\s*\(/.test(readFileSync(f, "utf8")));
  expect(offenders).toEqual([]);
});
