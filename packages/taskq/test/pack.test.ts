// taskq as an application outside this repository gets it, by the README's own commands:
// `node scripts/add-to-project.mjs DIR` (every package and the CLI packed, `pnpm pack` turning
// workspace:* into versions; the library, the CLI and the dashboard written into DIR's
// package.json as dependencies, every packed package as an npm override, since the @taskq
// packages are not on the registry; better-sqlite3's install script approved), then one
// `npm install` in DIR, which compiles better-sqlite3 there as it would on a machine that cannot
// download its prebuilt binary. Then, from DIR: the quick start and the producer/worker example,
// `npx taskq monitor --once` over the example's store, and the dashboard imported from
// @taskq/dashboard: createDashboard served by the project's own HTTP server, and startDashboard.
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const root = new URL("../../../", import.meta.url).pathname;
const addToProject = join(root, "scripts/add-to-project.mjs");
const packed = [
  "@taskq/cli",
  "@taskq/dashboard",
  "@taskq/idempotency",
  "@taskq/metrics",
  "@taskq/processor",
  "@taskq/queue",
  "@taskq/storage-sim",
  "taskq",
];

// The dashboard from @taskq/dashboard, in the project: createDashboard in the project's own
// node:http server, through its fetch handler (web Request and Response; GET only, enough here;
// the socket passed as @hono/node-server passes it, { incoming: req }: without a token the
// dashboard serves only a client it sees on loopback), at /taskq: the overview, a filtered task
// list and a chart script (uPlot, resolved from the dashboard's own dependency); and
// startDashboard, the README's line, on a server of its own. Both on ephemeral ports. One JSON
// line per page.
const dashboardScript = `import { once } from "node:events";
import { createServer } from "node:http";
import { createDashboard, startDashboard } from "@taskq/dashboard";
import { connect } from "taskq";

const client = await connect({ store: ".taskq/app.db" });
const dashboard = createDashboard({ client, basePath: "/taskq" });
const server = createServer(async (req, res) => {
  const request = new Request(new URL(req.url, "http://" + req.headers.host), { method: req.method, headers: req.headers });
  const response = await dashboard.fetch(request, { incoming: req });
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
});
server.listen(0, "127.0.0.1");
await once(server, "listening");
const base = "http://127.0.0.1:" + server.address().port + "/taskq";
const running = await startDashboard({ client, port: 0 });
const pages = [
  ["createDashboard /", base + "/"],
  ["createDashboard /tasks?kind=word-count", base + "/tasks?kind=word-count"],
  ["createDashboard /assets/uPlot.iife.min.js", base + "/assets/uPlot.iife.min.js"],
  ["startDashboard /", running.url],
];
for (const [page, url] of pages) {
  const response = await fetch(url);
  const body = await response.text();
  const title = /<title>([^<]*)<\\/title>/.exec(body)?.[1] ?? null;
  const type = response.headers.get("content-type");
  console.log(JSON.stringify({ page, status: response.status, type, title, bytes: body.length, wordCount: body.includes("word-count") }));
}
server.close();
dashboard.close();
await running.close();
await client.close();
`;

it("the README's commands add taskq, its CLI and its dashboard to a project outside the workspace, and they run there", {
  timeout: 900_000,
}, async () => {
  const project = join(mkdtempSync(join(tmpdir(), "taskq-consumer-")), "my-app");
  await run(process.execPath, [addToProject, project], { cwd: root });
  const manifest = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
  expect(Object.keys(manifest.dependencies).sort()).toEqual(["@taskq/cli", "@taskq/dashboard", "taskq"]);
  expect(manifest.dependencies.taskq).toMatch(/^file:\.\/vendor\/taskq\/taskq-\d+\.\d+\.\d+\.tgz$/);
  expect(Object.keys(manifest.overrides).sort()).toEqual(packed);
  // npm refuses an override of a direct dependency with another spec (EOVERRIDE)
  for (const [name, spec] of Object.entries(manifest.dependencies))
    expect(manifest.overrides[name]).toBe(spec);
  // better-sqlite3's install script, approved (npm 11.16+ warns of an unapproved one; npm 12 skips it)
  expect(manifest.allowScripts).toEqual({ "better-sqlite3": true });

  // One install for all three, nearly all of it compiling better-sqlite3: 2.5-7 minutes on two
  // cores shared with other builds and tests (the README gives what was measured).
  const install = await run("npm", ["install", "--no-audit", "--no-fund"], {
    cwd: project,
    timeout: 780_000,
  });
  expect(install.stderr).not.toContain("allowScripts");
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

  // the CLI's bin from the project's node_modules (--no: never the registry's)
  const monitor = await run("npx", ["--no", "taskq", "monitor", "--once", "--store", ".taskq/app.db"], {
    cwd: project,
  });
  expect(monitor.stdout).toContain("taskq monitor");
  expect(monitor.stdout).toContain("succeeded 2");
  expect(monitor.stdout).toMatch(/word-count: .*succeeded 1/);

  writeFileSync(join(project, "dashboard.mjs"), dashboardScript);
  const served = await run(process.execPath, ["dashboard.mjs"], { cwd: project });
  const pages = served.stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
  const page = (name: string) => pages.find((p) => p.page === name);
  expect(pages.map((p) => [p.page, p.status])).toEqual([
    ["createDashboard /", 200],
    ["createDashboard /tasks?kind=word-count", 200],
    ["createDashboard /assets/uPlot.iife.min.js", 200],
    ["startDashboard /", 200],
  ]);
  for (const name of ["createDashboard /", "startDashboard /"])
    expect(page(name)).toMatchObject({
      title: "Overview · taskq",
      wordCount: true,
      type: expect.stringMatching(/^text\/html/),
    });
  expect(page("createDashboard /tasks?kind=word-count")).toMatchObject({
    title: "Tasks · taskq",
    wordCount: true,
  });
  const chart = page("createDashboard /assets/uPlot.iife.min.js");
  expect(chart.type).toMatch(/^text\/javascript/);
  expect(chart.bytes).toBeGreaterThan(10_000);
});

it("add-to-project leaves the CLI and the dashboard out when asked, and points what the project lists and locks at the new tarballs", {
  timeout: 120_000,
}, async () => {
  const project = join(mkdtempSync(join(tmpdir(), "taskq-consumer-")), "lib-only");
  mkdirSync(project);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({
      name: "lib-only",
      dependencies: { hono: "^4.0.0" },
      devDependencies: { "@taskq/cli": "file:./vendor/taskq/taskq-cli-0.0.9.tgz" },
    }),
  );
  const kept = { version: "4.0.0", resolved: "https://registry.npmjs.org/hono/-/hono-4.0.0.tgz" };
  writeFileSync(
    join(project, "package-lock.json"),
    JSON.stringify({
      lockfileVersion: 3,
      packages: {
        "": { name: "lib-only" },
        "node_modules/@taskq/cli": { version: "0.0.9", resolved: "file:vendor/taskq/taskq-cli-0.0.9.tgz" },
        "node_modules/@taskq/cli/node_modules/taskq": { version: "0.0.9" },
        "node_modules/hono": kept,
      },
    }),
  );
  await run(process.execPath, [addToProject, project, "--no-cli", "--no-dashboard"], { cwd: root });
  // npm would keep the tarballs its lockfile names, whatever is packed now: their entries go
  const lock = JSON.parse(readFileSync(join(project, "package-lock.json"), "utf8"));
  expect(lock.packages).toEqual({ "": { name: "lib-only" }, "node_modules/hono": kept });
  const manifest = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
  expect(Object.keys(manifest.dependencies).sort()).toEqual(["hono", "taskq"]);
  expect(manifest.devDependencies["@taskq/cli"]).toBe(manifest.overrides["@taskq/cli"]);
  expect(manifest.devDependencies["@taskq/cli"]).toMatch(
    /^file:\.\/vendor\/taskq\/taskq-cli-\d+\.\d+\.\d+\.tgz$/,
  );
  expect(Object.keys(manifest.overrides).sort()).toEqual(packed);

  const refused = await run(process.execPath, [addToProject, project, "--no-docs"], { cwd: root }).catch(
    (error: { code: number; stderr: string }) => error,
  );
  expect(refused).toMatchObject({ code: 2 });
  expect((refused as { stderr: string }).stderr.trim().split("\n")).toHaveLength(1);
  expect((refused as { stderr: string }).stderr).toContain("unknown option --no-docs");
});
