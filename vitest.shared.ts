// One vitest configuration for every package: the default reporter for people, plus a JSON
// report that scripts/test-summary.mjs adds up into the closing `N passed, N failed` line, and a
// temporary directory per run that is removed at the end (scripts/vitest-tmpdir.ts). Tests import
// src, so a `.sql` file imported there is its text, as tsup's text loader makes it in the bundle.
//
// Two tiers. `vitest run` (what `pnpm test` and `.ci/run` run) runs every test file. `vitest run
// --mode unit` (what `pnpm test:unit` runs) is the fast tier: it leaves out the files a package's
// vitest.config.ts names as needing PostgreSQL, Chromium or an npm install of a packed project, or
// as end-to-end runs of a built program in child processes, and starts no PostgreSQL server.
// Nothing is skipped inside a file: a file that needs PostgreSQL for any of its tests (even beside
// SQLite ones) is named whole. A new test file that uses `inject("pgUrl")`, directly or through a
// helper, belongs in its package's `postgres` list (in the fast tier it would get no URL).
import { configDefaults, defineConfig, type Plugin } from "vitest/config";

/** `import text from "./queries.sql"`: the file's text as the module's default export. */
const sqlText: Plugin = {
  name: "taskq-sql-text",
  transform(code, id) {
    if (!id.endsWith(".sql")) return undefined;
    return { code: `export default ${JSON.stringify(code)};`, map: null };
  },
};

const script = (name: string) => new URL(`./scripts/${name}`, import.meta.url).pathname;

/** A package's test files, relative to the package, that the fast tier (`--mode unit`) leaves out. */
export interface SlowTests {
  /** Files that need the throwaway PostgreSQL server (scripts/vitest-postgres.ts, `inject("pgUrl")`). */
  readonly postgres?: readonly string[];
  /** Files that drive a real browser (Chromium). */
  readonly browser?: readonly string[];
  /** Files that pack the packages and `npm install` them into a project (network, minutes). */
  readonly install?: readonly string[];
  /**
   * Files that run a built program end to end as child processes, many of them (the CLI, the
   * examples, the baseline script): minutes on two cores for the CLI, seconds each for the others.
   */
  readonly processes?: readonly string[];
}

/** The configuration of a package whose tests include `slow` ones (all of them run unless `--mode unit`). */
export function taskqConfig(slow: SlowTests = {}) {
  const postgres = slow.postgres ?? [];
  return defineConfig(({ mode }) => {
    const unit = mode === "unit";
    const left = [...postgres, ...(slow.browser ?? []), ...(slow.install ?? []), ...(slow.processes ?? [])];
    return {
      plugins: [sqlText],
      test: {
        include: ["test/**/*.test.ts"],
        // The fast tier may leave a package with no test files (examples/): that is no failure.
        ...(unit ? { exclude: [...configDefaults.exclude, ...left], passWithNoTests: true } : {}),
        reporters: ["default", ["json", { outputFile: ".vitest-result.json" }]],
        globalSetup: [
          script("vitest-tmpdir.ts"),
          ...(postgres.length > 0 && !unit ? [script("vitest-postgres.ts")] : []),
        ],
        testTimeout: 60_000,
        hookTimeout: 60_000,
      },
    };
  });
}

export default taskqConfig();
