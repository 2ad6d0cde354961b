// taskq as a consumer gets it: every package packed (`pnpm pack`, which turns workspace:* into
// versions), installed with npm into a project outside the workspace, and the quick start run
// there: the handler worker, the exports map and the dependencies all have to be in the tarballs.
// The @taskq packages are not on the registry, so npm `overrides` point at their tarballs. Install
// scripts are skipped and the workspace's compiled better-sqlite3 binary is copied in: the same
// version on the same Node, and a native compile is not what this test is about.
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const root = new URL("../../../", import.meta.url).pathname;

it("the packed tarballs install outside the workspace and run the quick start", {
  timeout: 180_000,
}, async () => {
  const project = mkdtempSync(join(tmpdir(), "taskq-consumer-"));
  const names = readdirSync(join(root, "packages"));
  await Promise.all(
    names.map((name) =>
      run("pnpm", ["pack", "--pack-destination", project], { cwd: join(root, "packages", name) }),
    ),
  );
  const tarballs = readdirSync(project).filter((f) => f.endsWith(".tgz"));
  expect(tarballs).toHaveLength(names.length);
  const overrides = Object.fromEntries(
    tarballs
      .filter((f) => f.startsWith("taskq-") && f !== "taskq-0.1.0.tgz")
      .map((f) => [`@taskq/${f.replace(/^taskq-/, "").replace(/-\d+\.\d+\.\d+\.tgz$/, "")}`, `file:./${f}`]),
  );
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({
      name: "consumer",
      private: true,
      type: "module",
      dependencies: { taskq: "file:./taskq-0.1.0.tgz" },
      overrides,
    }),
  );
  await run("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: project });
  const sqlite = dirname(
    createRequire(join(root, "packages/idempotency/package.json")).resolve("better-sqlite3/package.json"),
  );
  mkdirSync(join(project, "node_modules/better-sqlite3/build/Release"), { recursive: true });
  copyFileSync(
    join(sqlite, "build/Release/better_sqlite3.node"),
    join(project, "node_modules/better-sqlite3/build/Release/better_sqlite3.node"),
  );
  mkdirSync(join(project, "handlers"));
  copyFileSync(join(root, "examples/handlers/word-count.mjs"), join(project, "handlers/word-count.mjs"));
  copyFileSync(join(root, "examples/quick-start.mjs"), join(project, "quick-start.mjs"));
  const { stdout } = await run(process.execPath, ["quick-start.mjs"], { cwd: project });
  expect(stdout).toBe("{ words: 9, longest: 'quick' }\n{ words: 9, longest: 'quick' }\n1 run, 1 duplicate\n");
});
