#!/usr/bin/env node
// Checks every package meant to be consumed (packages/* and the CLI, apps/cli: what
// scripts/add-to-project.mjs packs) as a consumer sees it, from its packed tarball: publint
// (package.json, exports, bin, files), @arethetypeswrong/cli (types resolve for ESM consumers; the
// packages are ESM only, so the CommonJS rows are not counted), and the imports of the packed
// files (import/export ... from, import(), require and require.resolve of a package name, in the
// .js and .d.ts files) against the packed package.json: each must be a dependency, a peer
// dependency or a Node built-in, else an npm install of the tarball lacks it (tsup leaves a
// package's dependencies and peers out of its bundle, so what is imported there is what the
// manifest must list), and each dependency must be imported. Run after a build. Exits 1 when any
// check fails.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const dirs = [
  ...readdirSync(join(root, "packages")).map((name) => join("packages", name)),
  join("apps", "cli"),
];
/** Each consumable package's manifest by name, for the peers its dependents provide. */
const workspace = new Map(
  dirs.map((dir) => {
    const manifest = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
    return [manifest.name, manifest];
  }),
);
const work = mkdtempSync(join(tmpdir(), "taskq-check-packages-"));
let failed = 0;
const report = (ok, what, dir, detail = "") => {
  if (ok) console.log(`ok    ${what} ${dir}`);
  else {
    failed++;
    console.log(`FAIL  ${what} ${dir}\n${detail}`);
  }
};

/** What the packed files import by package name: package → the files importing it. */
function importsOf(unpacked) {
  const found = new Map();
  const patterns = [
    /\bfrom\s*["']([^"'\s]+)["']/g,
    /\bimport\s*\(\s*["']([^"'\s]+)["']\s*\)/g,
    /\bimport\s*["']([^"'\s]+)["']/g,
    // a bundler may rename a createRequire'd require (require2)
    /\brequire\w*(?:\.resolve)?\s*\(\s*["']([^"'\s]+)["']\s*\)/g,
  ];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(m|c)?js$|\.d\.(m|c)?ts$/.test(entry.name)) {
        const text = readFileSync(path, "utf8");
        for (const pattern of patterns)
          for (const [, specifier] of text.matchAll(pattern)) {
            if (/^[./]/.test(specifier) || specifier.startsWith("node:")) continue;
            const parts = specifier.split("/");
            const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
            if (builtinModules.includes(name)) continue;
            const files = found.get(name) ?? new Set();
            files.add(relative(unpacked, path));
            found.set(name, files);
          }
      }
    }
  };
  walk(unpacked);
  return found;
}

try {
  for (const dir of dirs) {
    const into = join(work, dir.replace(/\//g, "-"));
    mkdirSync(into, { recursive: true });
    const pack = spawnSync("pnpm", ["pack", "--json", "--pack-destination", into], {
      cwd: join(root, dir),
      encoding: "utf8",
    });
    if (pack.status !== 0) {
      report(false, "pack", dir, pack.stderr);
      continue;
    }
    const { filename } = JSON.parse(pack.stdout);
    for (const [tool, args] of [
      ["publint", [join(root, dir), "--strict"]],
      ["attw", [filename, "--profile", "esm-only", "--format", "table-flipped"]],
    ]) {
      const run = spawnSync("pnpm", ["exec", tool, ...args], { cwd: root, encoding: "utf8" });
      report(run.status === 0, tool, dir, `${run.stdout}${run.stderr}`);
    }
    spawnSync("tar", ["-xzf", filename, "-C", into], { encoding: "utf8" });
    const unpacked = join(into, "package");
    const manifest = JSON.parse(readFileSync(join(unpacked, "package.json"), "utf8"));
    const listed = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
      ...Object.keys(manifest.optionalDependencies ?? {}),
    ]);
    const imported = importsOf(unpacked);
    const problems = [];
    for (const [name, files] of imported) {
      if (name === manifest.name || listed.has(name)) continue;
      const dev = manifest.devDependencies?.[name] !== undefined ? " (a devDependency only)" : "";
      problems.push(`  ${[...files].join(", ")} imports ${name}, which package.json does not list${dev}`);
    }
    // a dependency no file imports is allowed when it provides a peer of another (the CLI's pg)
    const peers = new Set(
      Object.keys(manifest.dependencies ?? {}).flatMap((name) =>
        Object.keys(workspace.get(name)?.peerDependencies ?? {}),
      ),
    );
    for (const name of Object.keys(manifest.dependencies ?? {}))
      if (!imported.has(name) && !peers.has(name))
        problems.push(`  package.json lists ${name} as a dependency, and no packed file imports it`);
    report(problems.length === 0, "imports", dir, `${problems.join("\n")}\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed === 0 ? 0 : 1);
