import type { CommandModule } from "yargs";
import { QttdmError } from "../core/errors.js";

interface Args {
  dirs: string[];
  out?: string;
  format?: string;
  baseline?: string;
  seed: string;
}

export const reportCommand: CommandModule<object, Args> = {
  command: "report <dirs..>",
  describe: "Write an HTML report (learning curves, IQM and bootstrap CIs, probability of improvement) of runs or comparisons",
  builder: (y) =>
    y
      .positional("dirs", { type: "string", array: true, demandOption: true, describe: "Run directories, comparison folders or folders of runs" })
      .option("out", { type: "string", describe: "HTML file to write (default: report.html in the first folder)" })
      .option("format", { type: "string", describe: "Also write each figure as svg or png into <out>-figures/" })
      .option("baseline", { type: "string", describe: "The config the others are compared with: its label, or a part of one label only (default: the first)" })
      .option("seed", { type: "string", default: "0", describe: "Seed of the bootstrap resampling" })
      .example("$0 report runs/cmp", "report.html for a comparison folder")
      .example("$0 report runs/a runs/b --out ab.html --format png", "two sets of runs, figures as PNG") as never,
  handler: async (args) => {
    if (args.format !== undefined && args.format !== "svg" && args.format !== "png") throw new QttdmError(`--format ${JSON.stringify(args.format)}: expected svg or png`);
    const seed = Number(args.seed);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new QttdmError(`--seed ${JSON.stringify(args.seed)}: expected a non-negative integer`);
    const { writeReport } = await import("../report/index.js");
    const { join } = await import("node:path");
    const out = args.out ?? join(args.dirs[0]!, "report.html");
    const { report, files } = writeReport(args.dirs, { out, format: args.format as "svg" | "png" | undefined, baseline: args.baseline, seed });
    for (const w of report.warnings) process.stderr.write(`qttdm: ${w}\n`);
    process.stdout.write(`report: ${files[0]}${files.length > 1 ? ` (and ${files.length - 1} figure files)` : ""}\n`);
  },
};
