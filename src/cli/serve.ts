import type { CommandModule } from "yargs";
import { ConfigError, show } from "../core/errors.js";
import { integerOption } from "./eval.js";
import type { BackendChoice } from "../backend/index.js";
import type { Engine } from "../serve/policy.js";

interface Args {
  checkpoint?: string;
  model?: string;
  int8: boolean;
  port: unknown;
  host: string;
  batchWindowMs: unknown;
  maxBatch: unknown;
  maxRows: unknown;
  token?: string;
  engine: string;
  backend: string;
}

/** A non-negative number of milliseconds, at most 1000. */
function windowOption(value: unknown): number {
  const given = Array.isArray(value) ? value[value.length - 1] : value;
  const n = typeof given === "number" ? given : typeof given === "string" && given.trim() !== "" ? Number(given) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > 1000) throw new ConfigError(`--batch-window-ms ${show(given)}: expected a number of milliseconds from 0 to 1000`);
  return n;
}

export const serveCommand: CommandModule<object, Args> = {
  command: "serve",
  describe: "Serve a greedy policy over HTTP: POST /act, GET /healthz, GET /metrics (Prometheus)",
  builder: (y) =>
    y
      .option("checkpoint", { type: "string", describe: "Run directory or checkpoint whose greedy Q-network to serve (in-process)" })
      .option("model", { type: "string", describe: "An ONNX model written by qttdm export, run by ONNX Runtime" })
      .option("int8", { type: "boolean", default: false, describe: "--checkpoint: serve the int8 ONNX model qttdm export --int8 would write (built in memory, run by ONNX Runtime)" })
      .option("port", { default: 8000, describe: "TCP port (0: any free port, printed on start)" })
      .option("host", { type: "string", default: "127.0.0.1", describe: "Address to bind; anything but loopback needs --token" })
      .option("batch-window-ms", { default: 1, describe: "Longest wait of a request for others to run with as one batch (0: no batching)" })
      .option("max-batch", { default: 64, describe: "Most observation rows per batched policy call" })
      .option("max-rows", { default: 1024, describe: "Most rows one request may carry (more: 413)" })
      .option("token", { type: "string", describe: "Bearer token required on /act and /metrics (default: $QTTDM_TOKEN); 16+ visible characters" })
      .option("engine", { type: "string", choices: ["auto", "arrays", "tfjs"], default: "auto", describe: "--checkpoint: JavaScript arrays, tfjs, or auto (timed at start-up per batch size)" })
      .option("backend", { type: "string", choices: ["auto", "tensorflow", "libtorch", "wasm", "cpu"], default: "auto", describe: "--checkpoint with tfjs: the backend (auto: the fastest available)" })
      .example("$0 serve --checkpoint runs/<run>", "serve a run's greedy policy on 127.0.0.1:8000")
      .example("$0 serve --checkpoint runs/<run> --int8", "serve its int8 model (as qttdm export --int8 writes it)")
      .example("$0 serve --model policy.onnx --port 9000", "serve an exported model with ONNX Runtime")
      .example(`curl -s localhost:8000/act -H 'content-type: application/json' -d '{"observation": [0,0,0,0,0,0,0,0]}'`, "one action") as never,
  handler: async (args) => {
    if ((args.checkpoint === undefined) === (args.model === undefined)) {
      throw new ConfigError("serve: give exactly one of --checkpoint RUN (a run's greedy Q-network) or --model FILE.onnx (an exported model)");
    }
    const port = integerOption("port", args.port, 0);
    if (port > 65535) throw new ConfigError(`--port ${port}: expected an integer from 0 to 65535`);
    const batchWindowMs = windowOption(args.batchWindowMs);
    const maxBatch = integerOption("max-batch", args.maxBatch, 1);
    const maxRows = integerOption("max-rows", args.maxRows, 1);
    const envToken = process.env.QTTDM_TOKEN;
    const token = args.token ?? (envToken === undefined || envToken === "" ? null : envToken);
    const { checkToken, isLoopback, startServer } = await import("../serve/server.js");
    if (token !== null) checkToken(token, args.token !== undefined ? "--token" : "QTTDM_TOKEN");
    else if (!isLoopback(args.host)) {
      throw new ConfigError(`--host ${show(args.host)}: binding beyond loopback needs a bearer token (--token or QTTDM_TOKEN); or use --host 127.0.0.1`);
    }
    if (args.int8 && args.model !== undefined) {
      throw new ConfigError("serve: --int8 applies to --checkpoint RUN; an exported --model keeps the precision it was exported with (qttdm export --int8)");
    }
    let policy;
    if (args.int8) {
      const [{ greedyPolicy, int8OnnxModel }, { OnnxPolicy }] = await Promise.all([import("../export/index.js"), import("../serve/onnx.js")]);
      const greedy = await greedyPolicy(args.checkpoint!);
      policy = await OnnxPolicy.fromBytes(await int8OnnxModel(args.checkpoint!, greedy), `int8 ONNX model of ${greedy.source} (checkpoint ${greedy.checkpoint})`);
    } else if (args.model !== undefined) {
      const { OnnxPolicy } = await import("../serve/onnx.js");
      policy = await OnnxPolicy.open(args.model);
    } else {
      const { checkpointPolicy } = await import("../serve/policy.js");
      policy = await checkpointPolicy(args.checkpoint!, { engine: args.engine as Engine, maxBatch, backend: args.backend as BackendChoice });
    }
    const server = await startServer({ policy, host: args.host, port, batchWindowMs, maxBatch, maxRows, token });
    process.stdout.write(
      `qttdm serve: listening on ${server.url} (POST /act, GET /healthz, GET /metrics${token ? "; bearer token required on /act and /metrics" : ""}); ` +
        `policy: ${policy.description}; batch window ${batchWindowMs} ms, max batch ${maxBatch} rows\n`,
    );
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGTERM", () => resolve("SIGTERM"));
      process.once("SIGINT", () => resolve("SIGINT"));
    });
    // A second signal while draining: stop at once.
    const force = (s: NodeJS.Signals) => {
      process.stderr.write(`qttdm serve: ${s} again, exiting without finishing the requests in flight\n`);
      process.exit(s === "SIGINT" ? 130 : 143);
    };
    process.once("SIGTERM", force);
    process.once("SIGINT", force);
    process.stdout.write(`qttdm serve: ${signal}: no new connections; finishing ${server.inFlight()} request(s) in flight\n`);
    await server.close();
    await policy.close();
    process.stdout.write("qttdm serve: stopped\n");
    process.exit(0);
  },
};
