/**
 * The HTTP server of `qttdm serve` (Fastify): `POST /act`, `GET /healthz`, `GET /metrics`.
 *
 * Every answer other than the metrics text is JSON; every refusal is `{"error": "..."}` with a 4xx status naming
 * the field, the value and what was expected. Bound to loopback unless a bearer token guards /act and /metrics.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Socket } from "node:net";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import { QttdmError, show } from "../core/errors.js";
import { MicroBatcher } from "./batcher.js";
import { ServeMetrics } from "./metrics.js";
import type { ServePolicy } from "./policy.js";
import { BadRequest, brief, parseActRequest } from "./validate.js";

export interface ServerOptions {
  policy: ServePolicy;
  /** Default 127.0.0.1. Any address other than loopback needs `token`. */
  host?: string;
  /** Default 8000; 0 picks a free port. */
  port?: number;
  /** Longest wait of a request for others to batch with, ms (default 1; 0: no batching). */
  batchWindowMs?: number;
  /** Most rows per policy call when batching requests (default 64). */
  maxBatch?: number;
  /** Most rows one request may carry (default 1024; more: 413). */
  maxRows?: number;
  /** Bearer token required on /act and /metrics (null: none). */
  token?: string | null;
  /** Largest request body, bytes (default 1 MiB; more: 413). */
  bodyLimit?: number;
  /** Where internal errors (5xx) are reported; default stderr. */
  logError?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  metrics: ServeMetrics;
  batcher: MicroBatcher;
  /** Requests received and not yet answered. */
  inFlight(): number;
  /** Stops accepting connections, lets the requests in flight finish, then resolves. */
  close(): Promise<void>;
}

export const DEFAULTS = { host: "127.0.0.1", port: 8000, batchWindowMs: 1, maxBatch: 64, maxRows: 1024, bodyLimit: 1 << 20 };

/** 127.0.0.0/8, ::1, their IPv4-mapped form and `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** A token a header can carry: 16 to 512 visible ASCII characters. @throws QttdmError */
export function checkToken(token: string, from: string): string {
  if (!/^[\x21-\x7e]{16,512}$/.test(token)) {
    throw new QttdmError(`${from}: got a token of ${token.length} characters, expected 16 to 512 visible ASCII characters (no spaces)`);
  }
  return token;
}

const ALLOWED: Record<string, string> = { "/act": "POST", "/healthz": "GET, HEAD", "/metrics": "GET, HEAD" };

const kArriving = Symbol("arriving");
const kRoute = Symbol("route");
const kStart = Symbol("start");
type Req = FastifyRequest & { [kArriving]?: boolean; [kRoute]?: string; [kStart]?: number };

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/json\s*(;|$)/i.test(contentType.trim());
}

function sendError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).header("content-type", "application/json; charset=utf-8").send(JSON.stringify({ error: message }));
}

/** Starts the server; resolves once it listens. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? DEFAULTS.host;
  const port = opts.port ?? DEFAULTS.port;
  const windowMs = opts.batchWindowMs ?? DEFAULTS.batchWindowMs;
  const maxBatch = opts.maxBatch ?? DEFAULTS.maxBatch;
  const maxRows = opts.maxRows ?? DEFAULTS.maxRows;
  const bodyLimit = opts.bodyLimit ?? DEFAULTS.bodyLimit;
  const token = opts.token ?? null;
  const logError = opts.logError ?? ((line: string) => process.stderr.write(`qttdm serve: ${line}\n`));
  if (!isLoopback(host) && token === null) {
    throw new QttdmError(`--host ${show(host)}: binding beyond loopback needs a bearer token (--token or QTTDM_TOKEN); or use --host 127.0.0.1`);
  }
  if (token !== null) checkToken(token, "--token");
  const { policy } = opts;
  const metrics = new ServeMetrics();
  let arriving = 0;
  const batcher = new MicroBatcher(policy, {
    windowMs,
    maxBatch,
    arriving: () => arriving,
    onBatch: (rows, requests, seconds) => metrics.batch(rows, requests, seconds),
  });
  /** A request to /act leaves the "on its way" count: it reached the batcher, or was answered or dropped before. */
  const leave = (req: Req, ended: boolean) => {
    if (!req[kArriving]) return;
    req[kArriving] = false;
    arriving--;
    if (ended) batcher.arrivalEnded();
  };

  const app = Fastify({
    logger: false,
    bodyLimit,
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    forceCloseConnections: "idle",
    return503OnClosing: true,
    // A malformed HTTP request: the JSON error shape, then the connection is closed.
    clientErrorHandler: (err: Error & { code?: string }, socket: Socket) => {
      if (!socket.writable) return void socket.destroy();
      const overflow = err.code === "HPE_HEADER_OVERFLOW";
      const body = JSON.stringify({ error: overflow ? "headers: over 16 KiB, expected smaller request headers" : `request: malformed HTTP (${err.code ?? err.message})` });
      const status = overflow ? "431 Request Header Fields Too Large" : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    },
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (e) {
      done(new BadRequest(400, `body: not valid JSON (${(e as Error).message.slice(0, 120)}): ${brief(body)}`), undefined);
    }
  });

  app.addHook("onRequest", (req: Req, reply, done) => {
    req[kStart] = performance.now();
    metrics.inFlight++;
    reply.raw.once("close", () => {
      metrics.inFlight--;
      leave(req, true);
    });
    done();
  });
  app.addHook("onResponse", (req: Req, reply, done) => {
    const route = req[kRoute] ?? (req.is404 ? "unmatched" : (req.routeOptions.url ?? "unmatched"));
    metrics.request(route, req.method, reply.statusCode, (performance.now() - req[kStart]!) / 1000);
    leave(req, true);
    done();
  });

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, req, reply) => {
    if (err instanceof BadRequest) return sendError(reply, err.status, err.message);
    switch (err.code) {
      case "FST_ERR_CTP_BODY_TOO_LARGE":
        return sendError(reply, 413, `body: ${req.headers["content-length"] === undefined ? "a streamed body" : `${brief(Number(req.headers["content-length"]))} bytes`} is over the limit of ${bodyLimit} bytes; send fewer rows per request`);
      case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
        return sendError(reply, 415, `content-type: got ${req.headers["content-type"] === undefined ? "none" : brief(req.headers["content-type"])}, expected application/json`);
      case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
        return sendError(reply, 400, `content-length: got ${brief(req.headers["content-length"])}, which does not match the body`);
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) return sendError(reply, status, `request: ${err.message}`);
    logError(`internal error on ${req.method} ${brief(req.url)}: ${err.stack ?? err.message}`);
    return sendError(reply, 500, `internal error: ${err.message.slice(0, 200)}`);
  });

  app.setNotFoundHandler((req: Req, reply) => {
    const path = req.url.split("?")[0]!;
    const allow = ALLOWED[path];
    if (allow) {
      req[kRoute] = path;
      return sendError(reply.header("allow", allow), 405, `method: got ${brief(req.method)} for ${path}, expected ${allow.replace(", ", " or ")}`);
    }
    return sendError(reply, 404, `route: got ${req.method} ${brief(path)}, expected POST /act, GET /healthz or GET /metrics`);
  });

  // Compared as SHA-256 digests: equal lengths, so the comparison takes the same time whatever was sent.
  const digest = (v: string) => createHash("sha256").update(v).digest();
  const expected = token === null ? null : digest(`Bearer ${token}`);
  const auth = (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (expected === null) return done();
    if (timingSafeEqual(digest(req.headers.authorization ?? ""), expected)) return done();
    reply.header("www-authenticate", 'Bearer realm="qttdm"');
    sendError(reply, 401, `authorization: ${req.headers.authorization === undefined ? "missing" : "wrong token"}, expected the header "Authorization: Bearer <token>" with the server's --token`);
  };

  app.route({
    method: "POST",
    url: "/act",
    onRequest: (req: Req, reply, done) => {
      req[kArriving] = true;
      arriving++;
      auth(req, reply, done);
    },
    handler: async (req: Req, reply) => {
      leave(req, false);
      if (!isJson(req.headers["content-type"])) {
        return sendError(reply, 415, `content-type: got ${req.headers["content-type"] === undefined ? "none" : brief(req.headers["content-type"])}, expected application/json`);
      }
      let act;
      try {
        act = parseActRequest(req.body, policy.obsDim, maxRows);
      } catch (e) {
        if (e instanceof BadRequest) return sendError(reply, e.status, e.message);
        throw e;
      }
      const out = await batcher.submit(act.obs, act.rows);
      const k = policy.numActions;
      let body: string;
      if (!act.batch) {
        body = act.qValues ? `{"action":${out.actions[0]},"q_values":${JSON.stringify(Array.from(out.q.subarray(0, k)))}}` : `{"action":${out.actions[0]}}`;
      } else {
        const actions = JSON.stringify(Array.from(out.actions));
        if (act.qValues) {
          const rows: number[][] = [];
          for (let r = 0; r < act.rows; r++) rows.push(Array.from(out.q.subarray(r * k, (r + 1) * k)));
          body = `{"actions":${actions},"q_values":${JSON.stringify(rows)}}`;
        } else body = `{"actions":${actions}}`;
      }
      return reply.header("content-type", "application/json; charset=utf-8").send(body);
    },
  });

  app.route({
    method: "GET",
    url: "/healthz",
    handler: async (_req, reply) =>
      reply.header("content-type", "application/json; charset=utf-8").send(JSON.stringify({ status: "ok", policy: policy.description, obs_dim: policy.obsDim, actions: policy.numActions })),
  });

  app.route({
    method: "GET",
    url: "/metrics",
    onRequest: auth,
    handler: async (_req, reply) => reply.header("content-type", "text/plain; version=0.0.4; charset=utf-8").send(metrics.render()),
  });

  try {
    await app.listen({ host, port });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    await app.close();
    const why: Record<string, string> = {
      EADDRINUSE: `port ${port} is already in use on ${host}; choose another --port (0: any free port)`,
      EACCES: `binding port ${port} on ${host} is not permitted (ports below 1024 need privileges); choose another --port`,
      EADDRNOTAVAIL: `${host} is not an address of this machine`,
      ENOTFOUND: `${host} does not resolve to an address`,
    };
    if (code && why[code]) throw new QttdmError(`--host ${show(host)} --port ${port}: ${why[code]}`);
    throw e;
  }
  const addr = app.server.address();
  const boundPort = typeof addr === "object" && addr ? addr.port : port;
  const boundHost = typeof addr === "object" && addr ? addr.address : host;
  const url = `http://${boundHost.includes(":") ? `[${boundHost}]` : boundHost}:${boundPort}`;
  let closing: Promise<void> | null = null;
  return {
    url,
    host: boundHost,
    port: boundPort,
    metrics,
    batcher,
    inFlight: () => metrics.inFlight,
    close: () => (closing ??= (async () => {
      await app.close();
      await batcher.idle();
    })()),
  };
}
