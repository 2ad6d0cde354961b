#!/usr/bin/env node
// Adds taskq to an application outside this repository: packs every package of this checkout
// (packages/* and the CLI, apps/cli; after `pnpm build`) into <project>/vendor/taskq/ and writes
// them into the project's package.json, creating it when missing. The library (`taskq`), the CLI
// (`@taskq/cli`, the `taskq` command) and the dashboard (`@taskq/dashboard`) become dependencies,
// as `npm install taskq @taskq/cli @taskq/dashboard` would make them; every packed package is
// also an npm override, since the @taskq packages are not on the registry and the packed ones
// depend on each other by version. An override of a direct dependency must be the same spec as
// the dependency (else npm refuses with EOVERRIDE), so both name the same tarball. Then
// `npm install` in the project.
//
//   node scripts/add-to-project.mjs ../my-app && (cd ../my-app && npm install)
//   node scripts/add-to-project.mjs ../my-app --no-cli --no-dashboard   # the library alone
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const usage = "usage: node scripts/add-to-project.mjs PROJECT_DIR [--no-cli] [--no-dashboard]";
const args = process.argv.slice(2);
const unknown = args.find((arg) => arg.startsWith("-") && arg !== "--no-cli" && arg !== "--no-dashboard");
const targets = args.filter((arg) => !arg.startsWith("-"));
if (unknown !== undefined || targets.length !== 1) {
  console.error(unknown === undefined ? usage : `add-to-project: unknown option ${unknown}; ${usage}`);
  process.exit(2);
}
// What the project depends on directly. The CLI depends on the dashboard (`taskq dashboard`), so
// --no-dashboard alone only keeps it out of the project's own dependencies.
const direct = [
  "taskq",
  ...(args.includes("--no-cli") ? [] : ["@taskq/cli"]),
  ...(args.includes("--no-dashboard") ? [] : ["@taskq/dashboard"]),
];
const sources = [
  ...readdirSync(join(root, "packages")).map((name) => join("packages", name)),
  join("apps", "cli"),
];
const unbuilt = sources.find((dir) => !existsSync(join(root, dir, "dist")));
if (unbuilt !== undefined) {
  console.error(
    `add-to-project: ${unbuilt} has no dist/: build this checkout first (pnpm install && pnpm build)`,
  );
  process.exit(1);
}
const project = resolve(targets[0]);
const vendor = join(project, "vendor", "taskq");
rmSync(vendor, { recursive: true, force: true });
mkdirSync(vendor, { recursive: true });
/** Each packed package's name → its spec in the project's package.json (`file:./vendor/...`). */
const specs = new Map();
for (const dir of sources) {
  // pnpm pack turns workspace:* ranges into versions
  const packed = spawnSync("pnpm", ["pack", "--json", "--pack-destination", vendor], {
    cwd: join(root, dir),
    encoding: "utf8",
  });
  if (packed.status !== 0) {
    console.error(`add-to-project: pnpm pack failed in ${dir}: ${packed.stderr.trim().split("\n")[0]}`);
    process.exit(1);
  }
  const { name, filename } = JSON.parse(packed.stdout);
  specs.set(name, `file:./${relative(project, filename)}`);
}
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
manifest.dependencies = { ...manifest.dependencies };
for (const name of direct) manifest.dependencies[name] = specs.get(name);
// A packed package the project already lists (from an earlier run, or moved to devDependencies)
// names this run's tarball, which may be another version's.
for (const field of ["dependencies", "devDependencies", "optionalDependencies"])
  for (const name of Object.keys(manifest[field] ?? {}))
    if (specs.has(name)) manifest[field][name] = specs.get(name);
// better-sqlite3 builds (or downloads) its binary in an install script: approved as
// `npm approve-scripts better-sqlite3` would, since npm 11.16 warns of an unapproved one and
// npm 12 skips it. An entry the project already has is its own decision.
manifest.allowScripts = { "better-sqlite3": true, ...manifest.allowScripts };
manifest.overrides = {
  ...manifest.overrides,
  ...Object.fromEntries([...specs].sort(([a], [b]) => a.localeCompare(b))),
};
writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
// A lockfile from an earlier run holds the tarballs it installed, by version and integrity: npm
// would keep them ("up to date") though a rebuilt checkout packs other contents under the same
// version. Their entries are dropped, so `npm install` reads this run's tarballs (and reinstalls
// only those that changed); the rest of the lockfile stays as it is.
const lockPath = join(project, "package-lock.json");
if (existsSync(lockPath)) {
  const lock = JSON.parse(readFileSync(lockPath, "utf8"));
  for (const path of Object.keys(lock.packages ?? {}))
    if (specs.has(path.replace(/^(.*\/)?node_modules\//, ""))) delete lock.packages[path];
  writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
}
const shown = (path) => relative(process.cwd(), path) || path;
console.log(
  `added ${direct.join(", ")} (${specs.size} packages in ${shown(vendor)}) to ${shown(manifestPath)}; now run npm install there` +
    (direct.includes("@taskq/cli") ? "" : " (and npm install pg for a postgres:// store)"),
);
