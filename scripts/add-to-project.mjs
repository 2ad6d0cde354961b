#!/usr/bin/env node
// Adds taskq to an application outside this repository: packs every package of this checkout
// (after `pnpm build`) into <project>/vendor/taskq/ and writes them into the project's
// package.json (`taskq` as a dependency, the @taskq packages as npm `overrides`, since they are not
// on the registry), creating package.json when missing. Then `npm install` in the project.
//
//   node scripts/add-to-project.mjs ../my-app && (cd ../my-app && npm install)
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const target = process.argv[2];
if (!target) {
  console.error("usage: node scripts/add-to-project.mjs PROJECT_DIR");
  process.exit(2);
}
const project = resolve(target);
if (!existsSync(join(root, "packages/taskq/dist/index.js"))) {
  console.error("add-to-project: build this checkout first (pnpm install && pnpm build)");
  process.exit(1);
}
const vendor = join(project, "vendor", "taskq");
rmSync(vendor, { recursive: true, force: true });
mkdirSync(vendor, { recursive: true });
const names = readdirSync(join(root, "packages"));
for (const name of names) {
  // pnpm pack turns workspace:* ranges into versions
  const packed = spawnSync("pnpm", ["pack", "--pack-destination", vendor], {
    cwd: join(root, "packages", name),
    encoding: "utf8",
  });
  if (packed.status !== 0) {
    console.error(`add-to-project: pnpm pack failed in packages/${name}: ${packed.stderr.trim()}`);
    process.exit(1);
  }
}
const tarballs = readdirSync(vendor).filter((f) => f.endsWith(".tgz"));
const file = (tarball) => `file:./${relative(project, join(vendor, tarball))}`;
const front = tarballs.find((f) => /^taskq-\d/.test(f));
const overrides = Object.fromEntries(
  tarballs
    .filter((f) => f !== front)
    .map((f) => [`@taskq/${f.replace(/^taskq-/, "").replace(/-\d+\.\d+\.\d+\.tgz$/, "")}`, file(f)]),
);
const manifestPath = join(project, "package.json");
const manifest = existsSync(manifestPath)
  ? JSON.parse(readFileSync(manifestPath, "utf8"))
  : {
      name: basename(project)
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, "-"),
      private: true,
      type: "module",
    };
manifest.dependencies = { ...manifest.dependencies, taskq: file(front) };
manifest.overrides = { ...manifest.overrides, ...overrides };
writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
console.log(
  `added taskq (${tarballs.length} packages in ${relative(process.cwd(), vendor) || vendor}) to ${relative(process.cwd(), manifestPath) || manifestPath}; now run npm install there (and npm install pg for a postgres:// store)`,
);
