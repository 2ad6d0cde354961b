// A store location's password is never shown, however the URL is written (issue 37): digits first
// and an unencoded /, ? or # (`taskq:2024/...@host`, which a URL parser reads as the host taskq and
// the port 2024), an @ or : in it, no user, a query parameter, a space before it, the scheme's
// colon or slashes lost (as a path it would make directories named after it). Every command
// that takes a store, given each form by --store, --db, TASKQ_STORE or --store-env: one line for
// the error on stderr (after --db's notice), no stack trace, and no password on stdout or stderr.
// No PostgreSQL server: the forms that parse are sent to 127.0.0.1:1, which refuses at once.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { taskq, workdir } from "./helpers.js";

/** Each form and what of its password may not be shown (a distinctive piece, whole or not). */
const FORMS: readonly { readonly url: string; readonly secret: string }[] = [
  { url: "postgres://taskq:2024/Rf4slash@127.0.0.1:1/db", secret: "Rf4slash" },
  { url: "postgres://taskq:2024?Rf4question@127.0.0.1:1/db", secret: "Rf4question" },
  { url: "postgres://taskq:2024#Rf4hash@127.0.0.1:1/db", secret: "Rf4hash" },
  { url: "postgresql://taskq:Rf4at@c:olon/x@127.0.0.1:1/db", secret: "Rf4at" },
  { url: "postgres://2024/Rf4nouser@127.0.0.1:1/db", secret: "Rf4nouser" },
  { url: " postgres://taskq:Rf4space@127.0.0.1:1/db", secret: "Rf4space" },
  { url: "postgres:taskq:2024/Rf4noslash@127.0.0.1:1/db", secret: "Rf4noslash" },
  { url: "postgres//taskq:Rf4nocolon@127.0.0.1:1/db", secret: "Rf4nocolon" },
  { url: "postgres://taskq:Rf4encoded%2F%3F@127.0.0.1:1/db", secret: "Rf4encoded" },
  { url: "postgres://taskq@127.0.0.1:1/db?sslmode=disable&password=Rf4param", secret: "Rf4param" },
  { url: "postgres://taskq@127.0.0.1:1/db?sslpassword=Rf4sslparam", secret: "Rf4sslparam" },
];

/** Every command that takes a store, with what it needs to reach opening it. */
const COMMANDS: readonly (readonly string[])[] = [
  ["submit", "--kind", "email", "--payload", "{}"],
  ["run", "--tasks", "good.json"],
  ["serve", "--exit-when-idle"],
  ["monitor", "--once"],
  ["dashboard", "--port", "0"],
  ["status", "x"],
  ["list"],
  ["cancel", "x"],
  ["schedule", "list"],
  ["limits", "list"],
  ["kinds", "list"],
  ["dlq", "list"],
  ["prune"],
];

/** Where the location comes from: each command takes each form from one of these, in turn. */
const SOURCES = ["--store", "--db", "TASKQ_STORE", "--store-env"] as const;

const cases = COMMANDS.flatMap((command, c) =>
  FORMS.map((form, f) => ({
    name: `${command.join(" ")} ${SOURCES[(c + f) % SOURCES.length]} ${form.url.trim()}`,
    command,
    source: SOURCES[(c + f) % SOURCES.length] as (typeof SOURCES)[number],
    ...form,
  })),
);

describe("no password of a store location in any output, however malformed (every command)", () => {
  it.concurrent.each(cases)("$name", async ({ command, source, url, secret }) => {
    const dir = workdir();
    writeFileSync(join(dir, "good.json"), '[{"id":"a","type":"noop"}]');
    const args = [...command];
    const env: Record<string, string> = {};
    if (source === "--store" || source === "--db") args.push(source, url);
    else if (source === "TASKQ_STORE") env.TASKQ_STORE = url;
    else {
      args.push("--store-env", "APP_DB");
      env.APP_DB = url;
    }
    const { code, stdout, stderr } = await taskq(dir, args, env);
    const shown = stdout + stderr;
    expect(shown).not.toContain(secret);
    expect(shown).not.toContain(url.trim());
    expect(code, stderr).toBeGreaterThan(0);
    expect(stdout).toBe("");
    const lines = stderr.split("\n").filter((line) => line !== "taskq: --db is deprecated, use --store");
    expect(lines, stderr).toEqual([expect.stringMatching(/^taskq: \S/), ""]);
    // the location is named, masked: the password as ***
    expect(stderr).toMatch(/postgres(ql)?:?\/{0,2}(taskq:)?\*\*\*@127\.0\.0\.1:1\/db|(ssl)?password=\*\*\*/);
  });
});

describe("no password with every log line on and stack traces shown (LOG_LEVEL=debug)", () => {
  it.concurrent.each(FORMS)("serve --store $url", async ({ url, secret }) => {
    const { code, stdout, stderr } = await taskq(workdir(), ["serve", "--exit-when-idle", "--store", url], {
      LOG_LEVEL: "debug",
    });
    expect(code, stderr).toBeGreaterThan(0);
    expect(stdout + stderr).not.toContain(secret);
    expect(stdout + stderr).not.toContain(url.trim());
  });
});
