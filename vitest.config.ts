import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Slow end-to-end checks live in test/slow and run with `npm run test:slow`.
    exclude: process.env.QTTDM_SLOW ? [] : ["test/slow/**"],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: "forks",
    globalSetup: ["test/global-setup.ts"],
  },
});
