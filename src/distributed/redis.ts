/**
 * Redis connections of the learner and the actors (node-redis, binary values as Buffers), the keys of a
 * run, and the private redis-server that `train` starts when no redis.url is given.
 *
 * Failure policy: the first connection must succeed within CONNECT_TIMEOUT_MS, or one clear error says
 * which URL could not be reached. After that a lost connection is retried with exponential backoff
 * (node-redis queues commands meanwhile); an operation that failed in flight is retried by `retrying`
 * until the server has been gone for OUTAGE_LIMIT_MS.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient, RESP_TYPES } from "redis";
import { QttdmError } from "../core/errors.js";

const CONNECT_TIMEOUT_MS = 4_000;
const OUTAGE_LIMIT_MS = 60_000;
const BACKOFF_MS = { first: 50, max: 2_000 };

export class RedisUnavailableError extends QttdmError {}

function makeClient(url: string, reconnect: (retries: number, cause: Error) => number | Error) {
  const socket = url.startsWith("unix://")
    ? { path: url.slice("unix://".length), connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: reconnect }
    : { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: reconnect };
  const options = url.startsWith("unix://") ? { socket } : { url, socket };
  return createClient(options).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
}

export type Redis = ReturnType<typeof makeClient>;

/** Checks a redis.url / --redis value. @throws QttdmError naming the value and the expected forms */
export function checkRedisUrl(url: string, where: string): void {
  if (!/^(redis|rediss):\/\/[^\s]+$/.test(url) && !/^unix:\/\/\/[^\s]+$/.test(url)) {
    throw new QttdmError(`${where}: got ${JSON.stringify(url)}, expected redis://host:port or unix:///path/to.sock`);
  }
}

/**
 * Connects, or fails within CONNECT_TIMEOUT_MS with one RedisUnavailableError naming the URL.
 * @param log where outages and reconnections are reported
 */
export async function connectRedis(url: string, where: string, log: (line: string) => void): Promise<Redis> {
  checkRedisUrl(url, where);
  let connected = false;
  let down = false;
  const client = makeClient(url, (retries, cause) => {
    if (!connected) return cause;
    return Math.min(BACKOFF_MS.first * 2 ** retries, BACKOFF_MS.max);
  });
  client.on("error", (err: Error) => {
    if (connected && !down) log(`redis ${url}: connection lost (${err.message}); reconnecting with backoff`);
    if (connected) down = true;
  });
  client.on("ready", () => {
    if (down) log(`redis ${url}: reconnected`);
    down = false;
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
  });
  try {
    const connecting = client.connect();
    // It may still fail after the timeout won the race; that failure is the one reported here.
    connecting.catch(() => {});
    await Promise.race([connecting, timeout]);
    connected = true;
    return client;
  } catch (err) {
    client.destroy();
    throw new RedisUnavailableError(`${where}: cannot reach the Redis server at ${url} (${(err as Error).message || (err as Error).name}); expected a running redis-server there`);
  } finally {
    clearTimeout(timer);
  }
}

/** True for errors of the connection (retry), false for the server's replies to a bad command (a bug). */
function isConnectionError(err: unknown): boolean {
  const name = (err as Error)?.name ?? "";
  return !/ReplyError|ErrorReply/.test(name) && !(err instanceof QttdmError);
}

/**
 * Runs `op`, retrying while the connection is down, for at most OUTAGE_LIMIT_MS of outage.
 * @param onRetry called once per failed attempt (e.g. to count reconnections)
 */
export async function retrying<T>(url: string, op: () => Promise<T>, onRetry?: (err: Error) => void): Promise<T> {
  let since: number | null = null;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      since ??= performance.now();
      if (performance.now() - since > OUTAGE_LIMIT_MS) {
        throw new RedisUnavailableError(`the Redis server at ${url} has been unreachable for ${OUTAGE_LIMIT_MS / 1000} s (${(err as Error).message}); giving up`);
      }
      onRetry?.(err as Error);
      await sleep(100);
    }
  }
}

/** The keys of one run, under a prefix named after its run directory (so several runs can share a server). */
export class RunKeys {
  readonly prefix: string;
  constructor(runDir: string) {
    this.prefix = `qttdm:${basename(runDir)}:`;
  }
  /** The transition stream actors append to. */
  get stream() {
    return `${this.prefix}transitions`;
  }
  /** The learner's weights as one binary value (weights.ts) and their version (the learner's update count). */
  get weights() {
    return `${this.prefix}weights`;
  }
  /** Hash of the learner's counters for the actors: insertLimit, inserted, updates, version. */
  get learner() {
    return `${this.prefix}learner`;
  }
  /** Transitions actors have sent (INCRBY, atomic with each XADD): compared with insertLimit for back-pressure. */
  get sent() {
    return `${this.prefix}sent`;
  }
  /** Hash: actor index → starts of actors that drew their incarnation from the server (`qttdm actor` without --incarnation). */
  get incarnations() {
    return `${this.prefix}incarnations`;
  }
  /** Set when the learner stops: actors exit. */
  get stop() {
    return `${this.prefix}stop`;
  }
}

/** A redis-server child process on a unix socket, without persistence. */
export interface RedisServer {
  url: string;
  pid: number;
  /** Stops it by PID (SIGTERM, then SIGKILL after 2 s) and removes its socket. */
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` on a unix socket (`socket`, or redis.sock in `dir`, or in a temporary directory when
 * that path is too long for a socket), no TCP port, nothing saved to disk.
 * @throws QttdmError when redis-server is not installed or does not answer within 5 s
 */
export async function startRedisServer(opts: { dir: string; socket?: string }): Promise<RedisServer> {
  let socket = opts.socket ?? join(opts.dir, "redis.sock");
  let tmp: string | null = null;
  // sockaddr_un holds 108 bytes.
  if (socket.length > 100) {
    tmp = mkdtempSync(join(tmpdir(), "qttdm-redis-"));
    socket = join(tmp, "redis.sock");
  }
  const args = ["--port", "0", "--unixsocket", socket, "--unixsocketperm", "700", "--save", "", "--appendonly", "no"];
  // detached: its own process group, so that a Ctrl-C meant for the learner does not take the server away
  // while the learner saves its checkpoint; the learner stops it by PID, and kills it if it exits first.
  const child: ChildProcess = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
  const killOnExit = () => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL");
  process.on("exit", killOnExit);
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-2000)));
  child.stderr!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const failed = new Promise<never>((_, reject) => {
    child.once("error", (err: NodeJS.ErrnoException) =>
      reject(new QttdmError(err.code === "ENOENT" ? "redis-server is not installed (not on PATH); install it (Debian: apt-get install redis-server) or give redis.url" : `redis-server: ${err.message}`)),
    );
    child.once("exit", (code, signal) => reject(new QttdmError(`redis-server exited at start (${signal ?? `code ${code}`}): ${output.trim().split("\n").slice(-3).join(" | ")}`)));
  });
  const cleanup = () => {
    process.off("exit", killOnExit);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    else rmSync(socket, { force: true });
  };
  const ready = async () => {
    const deadline = performance.now() + 5_000;
    while (!(existsSync(socket) && /ready to accept connections/i.test(output))) {
      if (performance.now() > deadline) throw new QttdmError(`redis-server did not accept connections on ${socket} within 5 s: ${output.trim().slice(-300)}`);
      await sleep(20);
    }
  };
  try {
    await Promise.race([ready(), failed]);
  } catch (err) {
    child.kill("SIGKILL");
    cleanup();
    throw err;
  }
  failed.catch(() => {});
  const pid = child.pid!;
  return {
    url: `unix://${socket}`,
    pid,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(pid, "SIGTERM");
        const killer = setTimeout(() => child.exitCode === null && child.signalCode === null && process.kill(pid, "SIGKILL"), 2_000);
        await exited;
        clearTimeout(killer);
      }
      cleanup();
    },
  };
}
