// Copies non-TypeScript assets (MuJoCo MJCF models) next to the compiled modules in dist/.
import { cpSync, existsSync } from "node:fs";

const pairs = [["src/envs/mujoco/assets", "dist/envs/mujoco/assets"]];
for (const [from, to] of pairs) {
  if (existsSync(from)) cpSync(from, to, { recursive: true });
}
