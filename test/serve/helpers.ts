// Tiny runs to serve, an HTTP client for the tests, and `qttdm serve` as a child process.
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import { CLI } from "../helpers/cli.js";

export { tinyRun } from "../helpers/runs.js";

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: unknown;
}

/** One HTTP request; resolves with the whole answer (JSON parsed when it is JSON). */
export function send(
  url: string,
  opts: { method?: string; path?: string; body?: string | Buffer; headers?: Record<string, string>; agent?: http.Agent; chunked?: boolean } = {},
): Promise<Answer> {
  const u = new URL(opts.path ?? "/act", url);
  const headers: Record<string, string> = {
    ...(opts.body !== undefined && !opts.headers?.["content-type"] ? { "content-type": "application/json" } : {}),
    ...(opts.body !== undefined && !opts.chunked ? { "content-length": String(Buffer.byteLength(opts.body)) } : {}),
    ...opts.headers,
  };
  return new Promise((resolve, reject) => {
    const req = http.request(u, { method: opts.method ?? "POST", headers, agent: opts.agent ?? false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => {
        let json: unknown = undefined;
        try {
          json = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, json });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** POST /act with a JSON body. */
export const act = (url: string, body: unknown, extra: { headers?: Record<string, string>; agent?: http.Agent } = {}) =>
  send(url, { body: JSON.stringify(body), ...extra });

/** `qttdm serve ARGS --port 0` as a child; resolves once it printed its address. */
export async function startServe(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string; out: { text: string }; exited: Promise<number> }> {
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  const out = { text: "" };
  child.stdout!.on("data", (d) => (out.text += d));
  child.stderr!.on("data", (d) => (out.text += d));
  const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      const m = /listening on (http:\/\/\S+?) /.exec(out.text);
      if (m) {
        clearInterval(poll);
        resolve(m[1]!);
      } else if (child.exitCode !== null || Date.now() - t0 > 120_000) {
        clearInterval(poll);
        reject(new Error(`qttdm serve did not start: ${out.text}`));
      }
    }, 25);
  });
  return { child, url, out, exited };
}

/** Ends a child started by the test, by its PID, if it still runs. */
export function stopChild(child: ChildProcess | undefined): void {
  if (child && child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, "SIGKILL");
}

/** Value of an unlabelled sample or of a sample with exactly these labels, from Prometheus text. */
export function sample(metrics: string, name: string, labels = ""): number | null {
  for (const line of metrics.split("\n")) {
    if (line.startsWith("#")) continue;
    const sp = line.lastIndexOf(" ");
    if (line.slice(0, sp) === (labels ? `${name}{${labels}}` : name)) return Number(line.slice(sp + 1));
  }
  return null;
}
