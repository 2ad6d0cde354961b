// One vitest configuration for every package: the default reporter for people, plus a JSON
// report that scripts/test-summary.mjs adds up into the closing `N passed, N failed` line, and a
// temporary directory per run that is removed at the end (scripts/vitest-tmpdir.ts).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: ".vitest-result.json" }]],
    globalSetup: [new URL("./scripts/vitest-tmpdir.ts", import.meta.url).pathname],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
