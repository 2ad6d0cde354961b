// The library's bad-input corpus (issue 21): every wrong option or handler a new user may give
// createQueue is refused by a ConfigError naming it, in one line, with no password in it, and
// nothing is created (no store file, no directory, not even in the working directory).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, createQueue, type QueueOptions } from "../src/index.js";

const PASSWORD = "Lk7f3a-corpus-pw";
const echo = new URL("./fixtures/echo.mjs", import.meta.url).pathname;

/** Handler modules that cannot load, written where the case runs (a syntax error cannot be linted in the repository). */
const MODULES: Record<string, string> = {
  "syntax.mjs": "export default async function (payload) {\n  return payload;\n",
  "throws.mjs": "export default (payload) => payload;\nthrow new Error('no config');\n",
};

/** Input → the option named, the one-line message; `handler` is the fixture unless a case gives one. */
const cases: [string, Record<string, unknown>, string, RegExp][] = [
  ["a typo of store", { stor: "tasks.db" }, "stor", /^unknown option "stor": did you mean "store"\?$/],
  ["a typo of threads", { threds: 2 }, "threds", /^unknown option "threds": did you mean "threads"\?$/],
  ["a case slip", { queuesize: 10 }, "queuesize", /^unknown option "queuesize": did you mean "queueSize"\?$/],
  ["a part of a name", { lease: 5000 }, "lease", /^unknown option "lease": did you mean "leaseMs"\?$/],
  [
    "nothing close",
    { colour: "red" },
    "colour",
    /^unknown option "colour" \(the options are handler, kind, hooks, store, .*, logLevel\)$/,
  ],
  [
    "a typo inside retry",
    { retry: { atempts: 3 } },
    "retry.atempts",
    /^unknown option "retry\.atempts": did you mean "retry\.attempts"\?$/,
  ],
  [
    "the store's name for attempts",
    { retry: { maxAttempts: 3 } },
    "retry.maxAttempts",
    /^unknown option "retry\.maxAttempts": did you mean "retry\.attempts"\?$/,
  ],
  [
    "the store's name for attempts, at the top",
    { maxAttempts: 3 },
    "maxAttempts",
    /^unknown option "maxAttempts": did you mean "attempts"\?$/,
  ],
  [
    "retry not an object",
    { retry: 3 },
    "retry",
    /^retry must be an object \{ attempts, baseMs, capMs \} \(deprecated: use attempts, backoffBaseMs, backoffMaxMs\), got 3$/,
  ],
  [
    "a typo in the URL scheme",
    { store: `postgress://newuser:${PASSWORD}@127.0.0.1:5432/newuser_app` },
    "store",
    /^store: unknown scheme "postgress:\/\/" in postgress:\/\/newuser:\*\*\*@127\.0\.0\.1:5432\/newuser_app: a store location is a postgres:\/\/ or postgresql:\/\/ URL, :memory:, or a SQLite file path$/,
  ],
  [
    "another database's URL",
    { store: `mysql://root:${PASSWORD}@db/app` },
    "store",
    /^store: unknown scheme "mysql:\/\/" in mysql:\/\/root:\*\*\*@db\/app: /,
  ],
  [
    "a sqlite:// URL",
    { store: "sqlite://tasks.db" },
    "store",
    /^store: unknown scheme "sqlite:\/\/" in sqlite:\/\/tasks\.db: /,
  ],
  [
    "one slash after postgres:",
    { store: `postgres:/u:${PASSWORD}@h/db` },
    "store",
    /^store: postgres:\/u:\*\*\*@h\/db is not a PostgreSQL URL/,
  ],
  [
    "an empty store",
    { store: "" },
    "store",
    /^store must be a postgres:\/\/ or postgresql:\/\/ URL, :memory:, or a SQLite file path, got an empty string$/,
  ],
  [
    "a handler with a syntax error",
    { handler: "./syntax.mjs" },
    "handler",
    /^handler \.\/syntax\.mjs: it failed to load: \/.*\/syntax\.mjs:3: SyntaxError: Unexpected end of input$/,
  ],
  [
    "a handler that throws as it loads",
    { handler: "./throws.mjs" },
    "handler",
    /^handler \.\/throws\.mjs: it failed to load: \/.*\/throws\.mjs:2: no config$/,
  ],
];

const dist = new URL("../dist/index.js", import.meta.url).href;

/**
 * createQueue in a plain Node process, from the build: a handler module is then imported by Node
 * itself (under vitest, vite's transform would report a syntax error in words of its own).
 */
function createQueueInNode(dir: string, options: object): unknown {
  const script = `
    const { createQueue } = await import(${JSON.stringify(dist)});
    const error = await createQueue(${JSON.stringify({ handler: echo, threads: 0, ...options })}).then(
      async (queue) => { await queue.close(); }, (e) => e);
    console.log(JSON.stringify(error && { name: error.name, option: error.option, code: error.code, message: error.message }));`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: dir,
    encoding: "utf8",
  });
  return Object.assign(new ConfigError("", ""), JSON.parse(out));
}

describe("createQueue: bad input is one ConfigError naming it; nothing is created", () => {
  it.each(cases)("%s", async (_name, options, option, message) => {
    const dir = mkdtempSync(join(tmpdir(), "taskq-bad-input-"));
    for (const [name, source] of Object.entries(MODULES)) writeFileSync(join(dir, name), source);
    let error: unknown;
    if ("handler" in options) error = createQueueInNode(dir, options);
    else {
      const cwd = process.cwd();
      // in the case's directory: a location taken for a path would show up here
      process.chdir(dir);
      try {
        error = await createQueue({ handler: echo, threads: 0, ...options } as QueueOptions<unknown>).then(
          async (queue) => {
            await queue.close();
            return undefined;
          },
          (e: unknown) => e,
        );
      } finally {
        process.chdir(cwd);
      }
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ name: "ConfigError", option, code: "ERR_CONFIG" });
    const text = (error as Error).message;
    expect(text).toMatch(message);
    expect(text).not.toContain("\n");
    expect(text).not.toContain(PASSWORD);
    expect(readdirSync(dir).sort()).toEqual(Object.keys(MODULES).sort());
  });
});
