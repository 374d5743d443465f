import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_BUCKET_LIMITS,
  FILE_VERSION,
  JsonlSink,
  Logger,
  flushOpenLoggers,
  maskedCrc32c,
  summarizeHistogram,
} from "../../src/logging/index.js";
import { crc32cReference, decodeEvent, readRecords } from "./tfreader.js";

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "qttdm-logging-"));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const fresh = (name: string): string => path.join(root, name);
const eventFiles = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.startsWith("events.out.tfevents."));
const readEvents = (dir: string) => readRecords(fs.readFileSync(path.join(dir, eventFiles(dir)[0]!))).map(decodeEvent);
const readJsonl = (dir: string) =>
  fs
    .readFileSync(path.join(dir, "metrics.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));

describe("crc32c", () => {
  it("matches the standard check value and the reference bitwise implementation", () => {
    expect(crc32cReference(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
    const data = new Uint8Array(1000).map((_, i) => (i * 31 + 7) & 255);
    const c = crc32cReference(data);
    expect(maskedCrc32c(data)).toBe((((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0);
  });
});

describe("summarizeHistogram", () => {
  it("uses TensorFlow's default edges and counts every finite value once", () => {
    expect(DEFAULT_BUCKET_LIMITS.length).toBe(1551);
    expect(DEFAULT_BUCKET_LIMITS[775]).toBe(0);
    expect(DEFAULT_BUCKET_LIMITS[776]).toBe(1e-12);
    expect(DEFAULT_BUCKET_LIMITS[1550]).toBe(Number.MAX_VALUE);
    expect(DEFAULT_BUCKET_LIMITS[0]).toBe(-Number.MAX_VALUE);
    const values = new Float32Array([-2, -1, 0, 0, 0.5, 1, 3, 3, 100, NaN, Infinity]);
    const h = summarizeHistogram(values);
    expect(h.num).toBe(9);
    expect(h.nonFinite).toBe(2);
    expect([h.min, h.max, h.sum, h.sumSquares]).toEqual([-2, 100, 104.5, 4 + 1 + 0.25 + 1 + 9 + 9 + 10000]);
    expect(h.bucketCounts.reduce((a, b) => a + b, 0)).toBe(9);
    // Limits ascend, the last one is above max, and no two adjacent buckets are both empty.
    for (let i = 1; i < h.bucketLimits.length; i++) expect(h.bucketLimits[i]!).toBeGreaterThan(h.bucketLimits[i - 1]!);
    expect(h.bucketLimits[h.bucketLimits.length - 1]!).toBeGreaterThan(100);
    for (let i = 1; i < h.bucketCounts.length; i++) expect(h.bucketCounts[i - 1]! + h.bucketCounts[i]!).toBeGreaterThan(0);
    // Each value falls in [previous limit, limit): check the bucket holding 0 (the two zeros).
    const zeroBucket = h.bucketLimits.findIndex((l) => l > 0);
    expect(h.bucketLimits[zeroBucket]).toBe(1e-12);
    expect(h.bucketCounts[zeroBucket]).toBe(2);
  });

  it("returns an empty summary without finite values", () => {
    const h = summarizeHistogram([NaN]);
    expect(h).toMatchObject({ num: 0, nonFinite: 1, min: 0, max: 0 });
    expect(h.bucketLimits.length).toBe(0);
  });
});

describe("Logger", () => {
  it("writes a TensorBoard event file that an independent reader decodes", () => {
    const dir = fresh("tb");
    let t = 1_700_000_000.25;
    const logger = Logger.open(dir, { flushSeconds: 0, exitHooks: false, clock: () => (t += 0.5) });
    logger.scalar("charts/episodic_return", 12.5, 0);
    logger.scalar("losses/td_loss", 0.125, 1000);
    logger.scalars({ "charts/SPS": 321, "losses/q_values": -3.5 }, 2 ** 40);
    const values = Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10);
    logger.histogram("replay/priorities", values, 2000);
    logger.text("config/yaml", "lr: 3e-4\nname: ünïcode", 0);
    logger.close();

    const files = eventFiles(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toBe(`events.out.tfevents.1700000000.${os.hostname()}`);
    const events = readEvents(dir);
    expect(events).toHaveLength(7);
    expect(events[0]).toMatchObject({ fileVersion: FILE_VERSION, step: 0, wallTime: 1_700_000_000.75 });
    expect(events.slice(1).map((e) => [e.tag, e.step])).toEqual([
      ["charts/episodic_return", 0],
      ["losses/td_loss", 1000],
      ["charts/SPS", 2 ** 40],
      ["losses/q_values", 2 ** 40],
      ["replay/priorities", 2000],
      ["config/yaml", 0],
    ]);
    expect(events.slice(1, 5).map((e) => e.simpleValue)).toEqual([12.5, 0.125, 321, -3.5]);
    expect(events[1]!.wallTime).toBe(1_700_000_001.25);

    const h = events[5]!.histo!;
    const ref = summarizeHistogram(values);
    expect(h.num).toBe(1000);
    expect(h.min).toBe(Math.min(...values));
    expect(h.max).toBe(Math.max(...values));
    expect(h.sum).toBeCloseTo(values.reduce((a, b) => a + b, 0), 9);
    expect(h.sumSquares).toBeCloseTo(values.reduce((a, b) => a + b * b, 0), 6);
    expect(h.limits).toEqual(Array.from(ref.bucketLimits));
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(1000);
    // Counts agree with a direct count over [previous limit, limit).
    for (let i = 0; i < h.limits.length; i++) {
      const lo = i === 0 ? -Infinity : h.limits[i - 1]!;
      expect(h.counts[i]).toBe(values.filter((v) => v >= lo && v < h.limits[i]!).length);
    }

    expect(events[6]!.text).toEqual({ pluginName: "text", dtype: 7, shapeDims: 0, value: "lr: 3e-4\nname: ünïcode" });
  });

  it("writes metrics.jsonl with one object per record", () => {
    const dir = fresh("jsonl");
    const logger = Logger.open(dir, { tensorboard: false, flushSeconds: 0, exitHooks: false, clock: () => 42.5 });
    logger.scalar("charts/episodic_return", 7.25, 3);
    logger.scalar("losses/td_loss", NaN, 4);
    logger.histogram("h", [1, 2, 3, 4], 5);
    logger.text("t", 'say "hi"', 6);
    logger.close();
    expect(eventFiles(dir)).toHaveLength(0);
    const rows = readJsonl(dir);
    expect(rows).toHaveLength(4);
    expect(rows[0]).toEqual({ step: 3, tag: "charts/episodic_return", value: 7.25, wall_time: 42.5 });
    expect(Object.keys(rows[0])).toEqual(["step", "tag", "value", "wall_time"]);
    expect(rows[1]).toEqual({ step: 4, tag: "losses/td_loss", value: null, wall_time: 42.5 });
    expect(rows[2].histogram).toMatchObject({ num: 4, non_finite: 0, min: 1, max: 4, mean: 2.5, sum: 10, sum_squares: 30 });
    expect(rows[2].histogram.std).toBeCloseTo(Math.sqrt(1.25), 12);
    expect(rows[2].histogram.bucket_counts.reduce((a: number, b: number) => a + b, 0)).toBe(4);
    expect(rows[2].histogram.bucket_limits).toHaveLength(rows[2].histogram.bucket_counts.length);
    expect(rows[3]).toEqual({ step: 6, tag: "t", text: 'say "hi"', wall_time: 42.5 });

    // A resumed run appends to the same file.
    const again = new Logger([new JsonlSink(dir)], { flushSeconds: 0, exitHooks: false });
    again.scalar("x", 1, 7);
    again.close();
    expect(readJsonl(dir)).toHaveLength(5);
  });

  it("buffers until flush, flushes on its interval, and rejects bad input with a clear message", async () => {
    const dir = fresh("interval");
    const logger = Logger.open(dir, { flushSeconds: 0.05, exitHooks: false });
    logger.scalar("a", 1, 1);
    expect(fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8")).toBe("");
    await new Promise((r) => setTimeout(r, 150));
    expect(readJsonl(dir)).toHaveLength(1);
    expect(readEvents(dir)).toHaveLength(2);

    expect(() => logger.scalar("a", 1, -1)).toThrow(/step for "a" must be a non-negative integer, got -1/);
    expect(() => logger.scalar("a", 1, 1.5)).toThrow(/non-negative integer, got 1.5/);
    expect(() => logger.scalar("", 1, 1)).toThrow(/tag must be a non-empty string/);
    expect(() => logger.scalar("a", "1" as unknown as number, 1)).toThrow(/value must be a number, got "1"/);
    expect(() => logger.histogram("a", 3 as unknown as number[], 1)).toThrow(/values must be an array/);
    logger.close();
    logger.close(); // idempotent
    expect(() => logger.scalar("a", 1, 2)).toThrow(/after close\(\)/);
    expect(() => Logger.open(dir, { flushSeconds: -1 })).toThrow(/flushSeconds must be >= 0/);
  });

  it("registers exit handlers once, flushes open loggers from them, and removes them on close", () => {
    const before = { exit: process.listenerCount("exit"), sigint: process.listenerCount("SIGINT") };
    const a = Logger.open(fresh("hook-a"), { flushSeconds: 0 });
    const b = Logger.open(fresh("hook-b"), { flushSeconds: 0 });
    expect(process.listenerCount("exit")).toBe(before.exit + 1);
    expect(process.listenerCount("SIGINT")).toBe(before.sigint + 1);
    a.scalar("x", 1, 1);
    b.scalar("y", 2, 2);
    flushOpenLoggers();
    expect(readJsonl(fresh("hook-a"))).toEqual([expect.objectContaining({ tag: "x", value: 1 })]);
    expect(readJsonl(fresh("hook-b"))).toEqual([expect.objectContaining({ tag: "y", value: 2 })]);
    a.close();
    expect(process.listenerCount("exit")).toBe(before.exit + 1);
    b.close();
    expect(process.listenerCount("exit")).toBe(before.exit);
    expect(process.listenerCount("SIGINT")).toBe(before.sigint);
  });
});

describe("Logger in a child process", () => {
  let script: string;
  beforeAll(async () => {
    // Node 20 cannot run TypeScript directly: bundle the child script (and src/logging) with the
    // esbuild that vitest already depends on.
    const { build } = await import("esbuild");
    script = path.join(root, "exit-child.cjs");
    await build({
      entryPoints: [path.join(import.meta.dirname, "fixtures/exit-child.ts")],
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      outfile: script,
      logLevel: "silent",
    });
  });

  const runChild = (dir: string, mode: "exit" | "signal") =>
    new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      const child = spawn(process.execPath, [script, dir, mode], { stdio: ["ignore", "pipe", "inherit"] });
      child.stdout.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("ready")) setTimeout(() => child.kill("SIGINT"), 100);
      });
      child.on("error", reject);
      child.on("exit", (code, signal) => resolve({ code, signal }));
    });

  it("keeps its logs on process.exit() without close()", async () => {
    const dir = fresh("child-exit");
    expect(await runChild(dir, "exit")).toEqual({ code: 3, signal: null });
    expect(readJsonl(dir).map((r) => r.step)).toEqual([0, 1, 2, 3, 4, 0]);
    expect(readEvents(dir).map((e) => e.tag ?? e.fileVersion)).toEqual([FILE_VERSION, ...Array(5).fill("charts/episodic_return"), "notes/mode"]);
  });

  it("keeps its logs when killed with SIGINT, and still dies of the signal", async () => {
    const dir = fresh("child-sigint");
    expect(await runChild(dir, "signal")).toEqual({ code: null, signal: "SIGINT" });
    const rows = readJsonl(dir);
    // Written only by the exit path (the interval flush is off): the first records and the loop's.
    expect(rows.length).toBeGreaterThan(6);
    expect(rows.slice(0, 6).map((r) => r.step)).toEqual([0, 1, 2, 3, 4, 0]);
    expect(rows.slice(6).every((r) => r.tag === "charts/SPS")).toBe(true);
    const events = readEvents(dir);
    expect(events.length).toBe(rows.length + 1);
    expect(events[0]!.fileVersion).toBe(FILE_VERSION);
  });
});
