import type { CommandModule } from "yargs";
import { ConfigError, show } from "../core/errors.js";

interface Args {
  checkpoint: string;
  format: unknown;
  int8: boolean;
  out?: string;
  "keep-float"?: string;
}

const FORMATS = ["onnx", "tfjs"] as const;

export const exportCommand: CommandModule<object, Args> = {
  command: "export",
  describe: "Export a checkpoint's greedy Q-network as an ONNX model (float32 or int8) or a tfjs-layers model directory",
  builder: (y) =>
    y
      .option("checkpoint", { type: "string", demandOption: true, describe: "Run directory, its checkpoints/, its checkpoints/latest pointer or one checkpoint directory" })
      // Not `choices`: yargs prints a usage block for those; the handler gives a one-line error instead.
      .option("format", { default: "onnx", describe: "onnx (ONNX Runtime, opset 17) or tfjs (a LayersModel directory for tf.loadLayersModel)" })
      .option("int8", {
        type: "boolean",
        default: false,
        describe: "ONNX only: int8 dense weights per output column (hidden layers: int8 products with dynamic activation quantisation; first and output layers: two int8 planes), calibrated on replay states; prints the greedy-action agreement with float32 on 10,000 replay states",
      })
      .option("keep-float", {
        type: "string",
        describe: "With --int8: keep these dense layers float32: first (reads the observations), last (writes the Q-values) or first,last",
      })
      .option("out", { type: "string", describe: "Output file (onnx) or directory (tfjs); default <run>/policy.onnx, <run>/policy-int8.onnx or <run>/policy-tfjs/" })
      .example("$0 export --checkpoint runs/<run>", "writes runs/<run>/policy.onnx")
      .example("$0 export --checkpoint runs/<run> --int8", "writes runs/<run>/policy-int8.onnx and prints its agreement with float32")
      .example("$0 export --checkpoint runs/<run> --format tfjs --out web/policy", "writes web/policy/model.json and its weights") as never,
  handler: async (args) => {
    const format = Array.isArray(args.format) ? args.format[args.format.length - 1] : args.format;
    if (!(FORMATS as readonly unknown[]).includes(format)) throw new ConfigError(`--format ${show(format)}: expected one of ${FORMATS.join(", ")}`);
    const keepFloat = parseKeepFloat(args["keep-float"], args.int8);
    const { exportPolicy } = await import("../export/index.js");
    await exportPolicy({ checkpoint: args.checkpoint, format: format as (typeof FORMATS)[number], int8: args.int8, out: args.out, keepFloat });
  },
};

function parseKeepFloat(value: unknown, int8: boolean): ("first" | "last")[] {
  if (value === undefined) return [];
  const given = Array.isArray(value) ? value[value.length - 1] : value;
  const parts = typeof given === "string" ? given.split(",").map((p) => p.trim()) : [];
  if (!parts.length || !parts.every((p) => p === "first" || p === "last")) throw new ConfigError(`--keep-float ${show(given)}: expected first, last or first,last`);
  if (!int8) throw new ConfigError("--keep-float applies with --int8 only");
  return [...new Set(parts)] as ("first" | "last")[];
}
