// One vitest configuration for every package: the default reporter for people, plus a JSON
// report that scripts/test-summary.mjs adds up into the closing `N passed, N failed` line.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: ".vitest-result.json" }]],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
