// int8 vs float32 ONNX policies of one checkpoint: file sizes, greedy-action agreement on replay states and
// held-out returns (greedy episodes in the project's env on fixed seeds, acting from ONNX Runtime sessions).
// Usage (after `npm run build`):
//   node scripts/export-agreement.mjs <checkpoint> [outDir=/tmp/qttdm-export] [episodes=100] [firstSeed=1000]
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { agreement, evaluateOnnx, greedyPolicy, int8OnnxModel, onnxModel, replayStates } from "../dist/export/index.js";
import { mean, stratifiedBootstrap } from "../dist/report/stats.js";

const [checkpoint, outDir = "/tmp/qttdm-export", episodesArg = "100", seedArg = "1000"] = process.argv.slice(2);
if (!checkpoint) {
  process.stderr.write("usage: node scripts/export-agreement.mjs <checkpoint> [outDir] [episodes] [firstSeed]\n");
  process.exit(2);
}
const episodes = Number(episodesArg);
const seed = Number(seedArg);
mkdirSync(outDir, { recursive: true });

const policy = await greedyPolicy(checkpoint);
const states = await replayStates(checkpoint, 10_000, 0, policy);
const fp32 = onnxModel(policy);
const models = {
  float32: fp32,
  "int8 (qttdm export --int8)": await int8OnnxModel(checkpoint, policy),
  "int8, no calibration (plain rounding, no smoothing or refit)": onnxModel(policy, { int8: true }),
  "int8, first and last layers float32 (--keep-float first,last)": await int8OnnxModel(checkpoint, policy, ["first", "last"]),
};
console.log(`checkpoint ${policy.checkpoint} (${policy.source})`);
console.log(`agreement states: ${states.source}`);
console.log(`episodes: ${episodes}, seeds ${seed}..${seed + episodes - 1}, ${policy.env}`);
let i = 0;
let fp32Returns = null;
for (const [name, bytes] of Object.entries(models)) {
  const file = join(outDir, `policy-${i++}.onnx`);
  writeFileSync(file, bytes);
  const a = name === "float32" ? null : await agreement(fp32, bytes, policy.obsDim, states.obs, states.n);
  const t = Date.now();
  const r = await evaluateOnnx(bytes, policy.env, episodes, seed, policy.config.env.options);
  const ci = stratifiedBootstrap(r.returns.map((x) => [x]), mean, { seed, reps: 2000 });
  fp32Returns ??= r.returns;
  // Paired by episode seed. One flipped action changes the rest of an episode, so most pairs differ.
  const diffs = r.returns.map((x, e) => x - fp32Returns[e]);
  const same = diffs.filter((d) => d === 0).length;
  const dci = stratifiedBootstrap(diffs.map((x) => [x]), mean, { seed, reps: 2000 });
  console.log(
    `${name}: ${file} ${bytes.length} bytes (${((100 * bytes.length) / fp32.length).toFixed(1)}% of float32)` +
      (a ? `; actions agree ${(100 * a.agreement).toFixed(2)}%, |dQ| mean ${a.meanAbsQError.toFixed(3)} max ${a.maxAbsQError.toFixed(2)}` : "") +
      `; mean return ${ci.point.toFixed(1)} [95% CI ${ci.lo.toFixed(1)}, ${ci.hi.toFixed(1)}], ` +
      `${r.returns.filter((x) => x >= 200).length}/${episodes} episodes ≥ 200` +
      (a ? `; minus float32, paired by seed: ${dci.point.toFixed(1)} [95% CI ${dci.lo.toFixed(1)}, ${dci.hi.toFixed(1)}], ${same}/${episodes} episodes with the same return` : "") +
      `, mean length ${(r.lengths.reduce((s, x) => s + x, 0) / episodes).toFixed(0)} (${((Date.now() - t) / 1000).toFixed(1)} s)`,
  );
}
