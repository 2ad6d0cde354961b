// One vitest configuration for every package: the default reporter for people, plus a JSON
// report that scripts/test-summary.mjs adds up into the closing `N passed, N failed` line, and a
// temporary directory per run that is removed at the end (scripts/vitest-tmpdir.ts). Tests import
// src, so a `.sql` file imported there is its text, as tsup's text loader makes it in the bundle.
import { defineConfig, type Plugin } from "vitest/config";

/** `import text from "./queries.sql"`: the file's text as the module's default export. */
const sqlText: Plugin = {
  name: "taskq-sql-text",
  transform(code, id) {
    if (!id.endsWith(".sql")) return undefined;
    return { code: `export default ${JSON.stringify(code)};`, map: null };
  },
};

export default defineConfig({
  plugins: [sqlText],
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: ".vitest-result.json" }]],
    globalSetup: [new URL("./scripts/vitest-tmpdir.ts", import.meta.url).pathname],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
