// taskq as an application outside this repository gets it, by the README's own commands:
// `node scripts/add-to-project.mjs DIR` (every package packed, `pnpm pack` turning workspace:*
// into versions, written into DIR's package.json with npm overrides, since the @taskq packages are
// not on the registry), then `npm install` in DIR, which compiles better-sqlite3 there as it would
// on a fresh machine. Then the quick start and the producer/worker example run from DIR.
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const root = new URL("../../../", import.meta.url).pathname;

it("the README's commands add taskq to a project outside the workspace, and its examples run there", {
  timeout: 300_000,
}, async () => {
  const project = join(mkdtempSync(join(tmpdir(), "taskq-consumer-")), "my-app");
  await run(process.execPath, [join(root, "scripts/add-to-project.mjs"), project], { cwd: root });
  const manifest = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
  expect(manifest.dependencies.taskq).toMatch(/^file:\.\/vendor\/taskq\/taskq-\d+\.\d+\.\d+\.tgz$/);
  expect(Object.keys(manifest.overrides).sort()).toEqual([
    "@taskq/dashboard",
    "@taskq/idempotency",
    "@taskq/metrics",
    "@taskq/processor",
    "@taskq/queue",
    "@taskq/storage-sim",
  ]);
  await run("npm", ["install", "--no-audit", "--no-fund"], { cwd: project, timeout: 240_000 });
  mkdirSync(join(project, "handlers"));
  for (const handler of ["word-count", "checksum"])
    copyFileSync(join(root, `examples/handlers/${handler}.mjs`), join(project, `handlers/${handler}.mjs`));
  for (const example of ["quick-start", "producer-worker"])
    copyFileSync(join(root, `examples/${example}.mjs`), join(project, `${example}.mjs`));
  const quick = await run(process.execPath, ["quick-start.mjs"], { cwd: project });
  expect(quick.stdout).toBe(
    "{ words: 9, longest: 'quick' }\n{ words: 9, longest: 'quick' }\n1 run, 1 duplicate\n",
  );
  const app = await run(process.execPath, ["producer-worker.mjs"], { cwd: project });
  expect(app.stdout).toContain("word-count { words: 4, longest: 'quick' }");
});
