#!/usr/bin/env node
// Runs every package's tests through turbo, then prints ONE closing line over all of them:
// `N passed, N failed`, with a line naming each failed test just above it. Counts come from the JSON report each vitest run writes; a package
// whose run left no report (it crashed before reporting) counts as one failure. Arguments go to
// turbo; after `--` they reach every package's `vitest run`: `pnpm test:unit` is this script with
// `-- --mode unit`, the fast tier (vitest.shared.ts says what it leaves out).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const dirs = ["packages", "apps", "input_new", "examples"].flatMap((group) => {
  const base = join(root, group);
  if (!existsSync(base)) return [];
  if (existsSync(join(base, "package.json"))) return [base];
  return readdirSync(base).map((name) => join(base, name));
});
const withTests = dirs.filter((dir) => existsSync(join(dir, "test")));
for (const dir of withTests) rmSync(join(dir, ".vitest-result.json"), { force: true });

const run = spawnSync("pnpm", ["exec", "turbo", "run", "test", "--continue", ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
});

let passed = 0;
let failed = 0;
const failures = [];
for (const dir of withTests) {
  const file = join(dir, ".vitest-result.json");
  if (!existsSync(file)) {
    failed += 1;
    console.error(`no test report from ${dir.slice(root.length)}: counted as 1 failed`);
    continue;
  }
  const report = JSON.parse(readFileSync(file, "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  for (const file of report.testResults ?? []) {
    for (const test of file.assertionResults ?? []) {
      if (test.status !== "failed") continue;
      const why = String(test.failureMessages?.[0] ?? "")
        .split("\n")[0]
        .slice(0, 200);
      failures.push(`FAILED ${file.name.slice(root.length)} > ${test.fullName}: ${why}`);
    }
  }
}
// The failed tests' names go just above the closing line, where a log's tail still shows them.
for (const line of failures) console.log(line);
console.log(`${passed} passed, ${failed} failed`);
process.exit(run.status === 0 && failed === 0 ? 0 : 1);
