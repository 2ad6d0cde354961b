#!/usr/bin/env node
// Checks every package meant to be consumed (packages/*) as a consumer sees it, from its packed
// tarball: publint (package.json, exports, files) and @arethetypeswrong/cli (types resolve for
// ESM consumers; the packages are ESM only, so the CommonJS rows are not counted). Run after a
// build. Exits 1 when any check fails.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const packages = readdirSync(join(root, "packages")).map((name) => join(root, "packages", name));
let failed = 0;
for (const dir of packages) {
  for (const [tool, args] of [
    ["publint", [dir, "--strict"]],
    ["attw", ["--pack", dir, "--profile", "esm-only", "--format", "table-flipped"]],
  ]) {
    const run = spawnSync("pnpm", ["exec", tool, ...args], { cwd: root, encoding: "utf8" });
    const name = dir.slice(root.length);
    if (run.status === 0) console.log(`ok    ${tool} ${name}`);
    else {
      failed++;
      console.log(`FAIL  ${tool} ${name}\n${run.stdout}${run.stderr}`);
    }
  }
}
process.exit(failed === 0 ? 0 : 1);
