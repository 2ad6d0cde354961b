// The CLI's bad-input corpus (issue 21): every mistake of a new user's first hour gets one clear
// line on stderr (no stack trace), the documented exit code (2: usage and input), no password,
// and nothing is created or stored. Then a run on PostgreSQL with a distinctive password: no
// output of any command, log or error, nor of createQueue, holds it.
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { createQueue } from "taskq";
import { describe, expect, inject, it } from "vitest";
import { type Result, taskq, workdir } from "./helpers.js";
import { selfSignedFiles } from "./self-signed.js";

/** In every URL below: no output may hold it. */
const PASSWORD = "Lk7f3a-newuser-pw";
const upper = new URL("./fixtures/upper.mjs", import.meta.url).pathname;

/** The files each case's directory starts with. */
const FILES: Record<string, string> = {
  "good.json": '[{"id":"a","type":"noop"}]',
  "bad.json": '[{"id": "a",\n  "type" "noop"}]',
  "bad.jsonl": '{"id":"a","type":"noop"}\nnot json\n{"id":"b","type":"noop"}\n',
  "p.jsonl": '{"text": "a"}\n',
  // a handler module with a syntax error (written here: the repository's lint would refuse it)
  "syntax.mjs": "export default async function (payload) {\n  return payload;\n",
  // the dashboard's TLS flags: a self-signed certificate, its key, and another key
  ...selfSignedFiles(),
};
/** A token the rules accept: the TLS cases are about the transport, not the token. */
const DASHBOARD_TOKEN = "Zq8-dashboard-token-4Lp";
const PLAIN_HTTP_REFUSED =
  /^taskq: the dashboard would send its token and session cookie unencrypted on 0\.0\.0\.0: give --tls-cert and --tls-key \(or TASKQ_DASHBOARD_TLS_CERT and TASKQ_DASHBOARD_TLS_KEY\), or --allow-plain-http behind a TLS proxy\n$/;

const ACCEPTED =
  "a store location is a postgres:\\/\\/ or postgresql:\\/\\/ URL, :memory:, or a SQLite file path";
const TYPO = `postgress://newuser:${PASSWORD}@127.0.0.1:5432/newuser_app`;
const typoRefused = (label: string, from = "") =>
  new RegExp(
    `^taskq: ${label}: unknown scheme "postgress:\\/\\/" in postgress:\\/\\/newuser:\\*\\*\\*@127\\.0\\.0\\.1:5432\\/newuser_app: ${ACCEPTED}${from}\\n$`,
  );
const malformedLine = /^taskq: bad\.jsonl line 2: malformed JSON: Unexpected token 'o'\n$/;

interface Case {
  readonly name: string;
  readonly args: string[];
  /** Environment variables, and lines of a .env file in the working directory. */
  readonly env?: Record<string, string>;
  readonly dotenv?: string;
  /** `.env` is a directory: a file that cannot be read. */
  readonly dotenvDirectory?: boolean;
  readonly exit: number;
  readonly stderr: RegExp;
}

const cases: Case[] = [
  // a store location with a wrong scheme, from a flag, the environment or .env: every command
  ...[
    ["submit", "--random"],
    ["run", "--tasks", "good.json"],
    ["serve", "--exit-when-idle"],
    ["monitor", "--once"],
    ["status", "x"],
    ["dlq", "list"],
    ["dlq", "retry", "--all"],
    ["prune"],
  ].flatMap((args) =>
    // the flag, and its old name (still checked by the same rule, the error naming it)
    ["--store", "--db"].map((flag) => ({
      name: `${args.join(" ")} ${flag} postgress://... (a typo in the scheme)`,
      args: [...args, flag, TYPO],
      exit: 2,
      stderr: typoRefused(flag),
    })),
  ),
  {
    name: "--store mysql://",
    args: ["run", "--tasks", "good.json", "--store", `mysql://root:${PASSWORD}@db/app`],
    exit: 2,
    stderr: new RegExp(
      `^taskq: --store: unknown scheme "mysql:\\/\\/" in mysql:\\/\\/root:\\*\\*\\*@db\\/app: ${ACCEPTED}\\n$`,
    ),
  },
  {
    name: "--store sqlite://",
    args: ["submit", "--random", "--store", "sqlite://tasks.db"],
    exit: 2,
    stderr: /^taskq: --store: unknown scheme "sqlite:\/\/" in sqlite:\/\/tasks\.db: /,
  },
  {
    name: "--store postgres:/ (one slash)",
    args: ["submit", "--random", "--store", `postgres:/newuser:${PASSWORD}@h/db`],
    exit: 2,
    stderr:
      /^taskq: --store: postgres:\/newuser:\*\*\*@h\/db is not a PostgreSQL URL: it starts with postgres:\/\/ or postgresql:\/\/\n$/,
  },
  {
    name: "TASKQ_STORE in the environment",
    args: ["status", "x"],
    env: { TASKQ_STORE: TYPO },
    exit: 2,
    stderr: typoRefused("TASKQ_STORE", " \\(from the environment\\)"),
  },
  {
    name: "TASKQ_STORE in .env",
    args: ["dlq", "list"],
    dotenv: `TASKQ_STORE=${TYPO}`,
    exit: 2,
    stderr: typoRefused("TASKQ_STORE", " \\(from \\.env\\)"),
  },
  // the variable's old name, still checked (a bad value is the one line: no deprecation notice)
  {
    name: "IDEMPOTENCY_DB_PATH in the environment",
    args: ["status", "x"],
    env: { IDEMPOTENCY_DB_PATH: TYPO },
    exit: 2,
    stderr: typoRefused("IDEMPOTENCY_DB_PATH", " \\(from the environment\\)"),
  },
  {
    name: "IDEMPOTENCY_DB_PATH in .env",
    args: ["submit", "--random"],
    dotenv: `IDEMPOTENCY_DB_PATH=${TYPO}`,
    exit: 2,
    stderr: typoRefused("IDEMPOTENCY_DB_PATH", " \\(from \\.env\\)"),
  },
  {
    name: "DATABASE_URL in .env",
    args: ["serve", "--exit-when-idle"],
    dotenv: `DATABASE_URL=${TYPO}`,
    exit: 2,
    stderr: typoRefused("DATABASE_URL", " \\(from \\.env\\)"),
  },
  // --store-env NAME: the store's URL from a variable, so that no password is on the command line
  {
    name: "--store-env naming a variable that is not set",
    args: ["submit", "--random", "--store-env", "APP_DB"],
    exit: 2,
    stderr: /^taskq: --store-env: APP_DB is not set \(neither in the environment nor in \.env\)\n$/,
  },
  {
    name: "--store-env given the URL itself (its password masked)",
    args: ["status", "x", "--store-env", `postgres://newuser:${PASSWORD}@127.0.0.1:5432/newuser_app`],
    exit: 2,
    stderr:
      /^taskq: --store-env takes the name of an environment variable \(letters, digits and _\), got postgres:\/\/newuser:\*\*\*@127\.0\.0\.1:5432\/newuser_app\n$/,
  },
  {
    name: "--store-env naming a variable with a typo in the scheme (the environment)",
    args: ["monitor", "--once", "--store-env", "APP_DB"],
    env: { APP_DB: TYPO },
    exit: 2,
    stderr: typoRefused("--store-env APP_DB"),
  },
  {
    name: "--store-env naming a variable of .env with a typo in the scheme",
    args: ["dlq", "list", "--store-env", "APP_DB"],
    dotenv: `APP_DB=${TYPO}`,
    exit: 2,
    stderr: typoRefused("--store-env APP_DB"),
  },
  {
    name: "--store and --store-env together",
    args: ["submit", "--random", "--store", "a.db", "--store-env", "APP_DB"],
    env: { APP_DB: "b.db" },
    exit: 2,
    stderr: /^taskq: --store and --store-env: give one\n$/,
  },
  {
    name: "--db and --store-env together",
    args: ["status", "x", "--db", "a.db", "--store-env", "APP_DB"],
    env: { APP_DB: "b.db" },
    exit: 2,
    stderr: /^taskq: --db is deprecated, use --store\ntaskq: --store and --store-env: give one\n$/,
  },
  {
    name: ".env that cannot be read (a directory)",
    args: ["status", "x"],
    dotenvDirectory: true,
    exit: 2,
    stderr: /^taskq: cannot read \.env: it is a directory\n$/,
  },
  // a malformed line of JSON Lines refuses the file, as a malformed array does
  {
    name: "submit a malformed JSON line",
    args: ["submit", "--payload-file", "bad.jsonl"],
    exit: 2,
    stderr: malformedLine,
  },
  {
    name: "submit --kind a malformed JSON line",
    args: ["submit", "--kind", "upper", "--payload-file", "bad.jsonl"],
    exit: 2,
    stderr: malformedLine,
  },
  {
    name: "submit --raw without a kind",
    args: ["submit", "--raw", "--payload", "{}"],
    exit: 2,
    stderr:
      /^taskq: --raw needs --kind NAME: the kind of the payloads \(a `serve --handler NAME=FILE` runs them\)\n$/,
  },
  {
    name: "submit --kind that is not a plain name",
    args: ["submit", "--kind", "no spaces", "--payload", "{}"],
    exit: 2,
    stderr:
      /^taskq: --kind must be a short plain identifier \(letters, digits, _ \. -; up to 64, not starting with a digit\), got "no spaces"\n$/,
  },
  {
    name: "serve --handler with a kind that is not a plain name",
    args: ["serve", "--handler", "bad kind=./x.mjs"],
    exit: 2,
    stderr: /^taskq: --handler KIND must be a short plain identifier .*got "bad kind"\n$/,
  },
  {
    name: "run a malformed JSON line",
    args: ["run", "--tasks", "bad.jsonl"],
    exit: 2,
    stderr: malformedLine,
  },
  {
    name: "run --handler a malformed JSON line",
    args: ["run", "--handler", upper, "--tasks", "bad.jsonl"],
    exit: 2,
    stderr: malformedLine,
  },
  {
    name: "run a malformed JSON array (the same way)",
    args: ["run", "--tasks", "bad.json"],
    exit: 2,
    stderr: /^taskq: bad\.json: malformed JSON at line 2, column \d+: .+\n$/,
  },
  // numbers as typed, and the variable that was wrong
  {
    name: "--workers abc",
    args: ["run", "--tasks", "good.json", "--workers", "abc"],
    exit: 2,
    stderr: /^taskq: --workers must be an integer >= 1, got "abc"\n$/,
  },
  {
    name: "--prefetch -1",
    args: ["serve", "--prefetch", "-1"],
    exit: 2,
    stderr: /^taskq: --prefetch must be auto or an integer >= 0, got -1\n$/,
  },
  {
    name: "--prefetch soon",
    args: ["serve", "--prefetch", "soon"],
    exit: 2,
    stderr: /^taskq: --prefetch must be auto or an integer >= 0, got "soon"\n$/,
  },
  {
    name: "--queue-size 1.5",
    args: ["run", "--tasks", "good.json", "--queue-size", "1.5"],
    exit: 2,
    stderr: /^taskq: --queue-size must be an integer >= 1, got 1\.5\n$/,
  },
  {
    name: "--interval soon",
    args: ["monitor", "--interval", "soon"],
    exit: 2,
    stderr: /^taskq: --interval must be a number from 0\.1 to 3600, got "soon"\n$/,
  },
  {
    name: "MAX_WORKERS=-3 in the environment",
    args: ["run", "--tasks", "good.json"],
    env: { MAX_WORKERS: "-3" },
    exit: 2,
    stderr: /^taskq: MAX_WORKERS must be an integer >= 1, got "-3" \(from the environment\)\n$/,
  },
  {
    name: "MAX_WORKERS=-3 in .env",
    args: ["serve", "--exit-when-idle"],
    dotenv: "MAX_WORKERS=-3",
    exit: 2,
    stderr: /^taskq: MAX_WORKERS must be an integer >= 1, got "-3" \(from \.env\)\n$/,
  },
  {
    name: "THREADS=-3 in the environment (the variable's name now)",
    args: ["run", "--tasks", "good.json"],
    env: { THREADS: "-3" },
    exit: 2,
    stderr: /^taskq: THREADS must be an integer >= 1, got "-3" \(from the environment\)\n$/,
  },
  // time and limits (issue 22)
  {
    name: "submit --count with a payload (it would be ignored)",
    args: ["submit", "--kind", "email", "--payload", "{}", "--count", "5"],
    exit: 2,
    stderr: /^taskq: --count goes with --random \(a payload or a file stores what it holds\)\n$/,
  },
  {
    name: "submit --delay-ms -5",
    args: ["submit", "--kind", "email", "--payload", "{}", "--delay-ms", "-5"],
    exit: 2,
    stderr: /^taskq: --delay-ms must be an integer >= 0, got -5\n$/,
  },
  {
    name: "submit --run-at that is not a time",
    args: ["submit", "--kind", "email", "--payload", "{}", "--run-at", "tomorrow"],
    exit: 2,
    stderr: /^taskq: --run-at must be an ISO time such as 2026-12-01T09:00:00Z, got "tomorrow"\n$/,
  },
  {
    name: "submit --run-at with --delay-ms",
    args: [
      "submit",
      "--kind",
      "email",
      "--payload",
      "{}",
      "--run-at",
      "2030-01-01T00:00:00Z",
      "--delay-ms",
      "5",
    ],
    exit: 2,
    stderr: /^taskq: Arguments run-at and delay-ms are mutually exclusive\n$/,
  },
  {
    name: "submit --priority 1.5",
    args: ["submit", "--kind", "email", "--payload", "{}", "--priority", "1.5"],
    exit: 2,
    stderr: /^taskq: --priority must be an integer \(larger runs first; negative allowed\), got 1\.5\n$/,
  },
  {
    name: "schedule add with a bad cron expression",
    args: ["schedule", "add", "nightly", "--cron", "61 * * * *", "--kind", "report"],
    exit: 2,
    stderr:
      /^taskq: --cron "61 \* \* \* \*" is not a cron expression of five fields \(or six with seconds first\): Invalid value for minute: 61\n$/,
  },
  {
    name: "schedule add with an unknown time zone",
    args: [
      "schedule",
      "add",
      "nightly",
      "--cron",
      "0 3 * * *",
      "--timezone",
      "Mars/Base",
      "--kind",
      "report",
    ],
    exit: 2,
    stderr:
      /^taskq: timezone "Mars\/Base" is not a time zone \(an IANA name such as "Europe\/Berlin" or "UTC"\)\n$/,
  },
  {
    name: "schedule add without --kind",
    args: ["schedule", "add", "nightly", "--cron", "0 3 * * *"],
    exit: 2,
    stderr: /^taskq: schedule add needs --cron EXPR and --kind KIND\n$/,
  },
  // a kind no worker has served and no schedule or task has (here: no store yet), with --strict
  {
    name: "submit --kind of a kind the store does not know, --strict",
    args: ["submit", "--kind", "emial", "--payload", "{}", "--strict"],
    exit: 2,
    stderr:
      /^taskq: --kind emial is not a kind this store knows \(no worker has served it, no schedule, limit, pause or task has it\); known kinds: compute, fail, http_request, image, noop, sleep \(refused: --strict\)\n$/,
  },
  {
    name: "schedule add --kind of a kind the store does not know, --strict",
    args: ["schedule", "add", "nightly", "--cron", "0 3 * * *", "--kind", "nop", "--strict"],
    exit: 2,
    stderr:
      /^taskq: --kind nop is not a kind this store knows \(no worker has served it, no schedule, limit, pause or task has it\); did you mean noop\? known kinds: compute, fail, http_request, image, noop, sleep \(refused: --strict\)\n$/,
  },
  {
    name: "limits set --concurrency 0",
    args: ["limits", "set", "email", "--concurrency", "0"],
    exit: 2,
    stderr: /^taskq: --concurrency must be an integer >= 1, got 0\n$/,
  },
  {
    name: "limits set of a kind that is not a plain name",
    args: ["limits", "set", "a b", "--rate", "5"],
    exit: 2,
    stderr: /^taskq: kind must be a short plain identifier/,
  },
  {
    name: "dashboard on 0.0.0.0 without a token",
    args: ["dashboard", "--host", "0.0.0.0"],
    exit: 2,
    stderr:
      /^taskq: the dashboard would listen on 0\.0\.0\.0, reachable from other machines: set a token \(TASKQ_DASHBOARD_TOKEN\) or listen on 127\.0\.0\.1\n$/,
  },
  {
    name: "serve --ui-port on 0.0.0.0 without a token",
    args: ["serve", "--exit-when-idle", "--ui-port", "0", "--ui-host", "0.0.0.0"],
    exit: 2,
    stderr: /^taskq: the dashboard would listen on 0\.0\.0\.0, reachable from other machines/,
  },
  // a weak token, refused before the store is opened, the rule in one line and the token never shown
  ...(
    [
      ["too short", ["dashboard"], "short"],
      ["of eight spaces", ["dashboard"], "        "],
      ["of one character", ["dashboard"], "aaaaaaaa"],
      ["long but of one character", ["dashboard"], "a".repeat(32)],
      ["with a space", ["dashboard"], "a-long-token with-a-space"],
      ["for serve --ui-port", ["serve", "--exit-when-idle", "--ui-port", "0"], "abcdabcdabcdabcdabcd"],
    ] as [string, string[], string][]
  ).map(([label, args, token]) => ({
    name: `TASKQ_DASHBOARD_TOKEN ${label}`,
    args,
    env: { TASKQ_DASHBOARD_TOKEN: token },
    exit: 2,
    stderr:
      /^taskq: TASKQ_DASHBOARD_TOKEN: the dashboard token must be at least 16 printable ASCII characters without spaces, 8 or more of them different \(make one with: openssl rand -hex 16\)\n$/,
  })),
  // a token on a network address over plain http; the TLS flags' files; the proxies to trust
  {
    name: "dashboard on 0.0.0.0 with a token, over plain http",
    args: ["dashboard", "--host", "0.0.0.0"],
    env: { TASKQ_DASHBOARD_TOKEN: DASHBOARD_TOKEN },
    exit: 2,
    stderr: PLAIN_HTTP_REFUSED,
  },
  {
    name: "serve --ui-port on 0.0.0.0 with a token, over plain http",
    args: ["serve", "--exit-when-idle", "--ui-port", "0", "--ui-host", "0.0.0.0"],
    env: { TASKQ_DASHBOARD_TOKEN: DASHBOARD_TOKEN },
    exit: 2,
    stderr: PLAIN_HTTP_REFUSED,
  },
  {
    name: "dashboard --tls-cert without --tls-key",
    args: ["dashboard", "--tls-cert", "cert.pem"],
    exit: 2,
    stderr:
      /^taskq: --tls-cert needs --tls-key \(or TASKQ_DASHBOARD_TLS_KEY\): the key of the certificate\n$/,
  },
  {
    name: "dashboard --tls-cert of a missing file",
    args: ["dashboard", "--tls-cert", "missing.pem", "--tls-key", "key.pem"],
    exit: 2,
    stderr: /^taskq: --tls-cert: cannot read missing\.pem: no such file\n$/,
  },
  {
    name: "dashboard --tls-cert of a file that is no certificate",
    args: ["dashboard", "--tls-cert", "good.json", "--tls-key", "key.pem"],
    exit: 2,
    stderr: /^taskq: --tls-cert good\.json is not a PEM certificate\n$/,
  },
  {
    name: "dashboard --tls-key of a certificate (no key in it)",
    args: ["dashboard", "--tls-cert", "cert.pem", "--tls-key", "cert.pem"],
    exit: 2,
    stderr: /^taskq: --tls-key cert\.pem is not a PEM private key\n$/,
  },
  {
    name: "dashboard --tls-key of another certificate's key",
    args: ["dashboard", "--tls-cert", "cert.pem", "--tls-key", "other-key.pem"],
    exit: 2,
    stderr: /^taskq: --tls-key other-key\.pem is not the key of the certificate in --tls-cert cert\.pem\n$/,
  },
  {
    name: "TASKQ_DASHBOARD_TLS_KEY of another certificate's key, for serve --ui-port",
    args: ["serve", "--exit-when-idle", "--ui-port", "0"],
    env: { TASKQ_DASHBOARD_TLS_CERT: "cert.pem", TASKQ_DASHBOARD_TLS_KEY: "other-key.pem" },
    exit: 2,
    stderr:
      /^taskq: TASKQ_DASHBOARD_TLS_KEY other-key\.pem is not the key of the certificate in TASKQ_DASHBOARD_TLS_CERT cert\.pem\n$/,
  },
  {
    name: "serve --tls-cert without --ui-port",
    args: ["serve", "--exit-when-idle", "--tls-cert", "cert.pem", "--tls-key", "key.pem"],
    exit: 2,
    stderr: /^taskq: --tls-cert is for the dashboard: give --ui-port too\n$/,
  },
  {
    name: "dashboard --trust-proxy of a CIDR too wide",
    args: ["dashboard", "--trust-proxy", "127.0.0.1,10.0.0.0/33"],
    exit: 2,
    stderr:
      /^taskq: --trust-proxy takes addresses or CIDRs such as 127\.0\.0\.1 or 10\.0\.0\.0\/8, got "10\.0\.0\.0\/33"\n$/,
  },
  {
    name: "TASKQ_DASHBOARD_TRUST_PROXY of a host name",
    args: ["dashboard"],
    env: { TASKQ_DASHBOARD_TRUST_PROXY: "proxy.example" },
    exit: 2,
    stderr:
      /^taskq: TASKQ_DASHBOARD_TRUST_PROXY takes addresses or CIDRs such as 127\.0\.0\.1 or 10\.0\.0\.0\/8, got "proxy\.example"\n$/,
  },
  {
    name: "dashboard --port 70000",
    args: ["dashboard", "--port", "70000"],
    exit: 2,
    stderr: /^taskq: port must be an integer from 0 to 65535, got 70000\n$/,
  },
  {
    name: "serve --kind-concurrency without a number",
    args: ["serve", "--exit-when-idle", "--kind-concurrency", "noop"],
    exit: 2,
    stderr: /^taskq: --kind-concurrency takes KIND=N \(N a positive integer\), got "noop"\n$/,
  },
  {
    name: "--threads abc",
    args: ["run", "--tasks", "good.json", "--threads", "abc"],
    exit: 2,
    stderr: /^taskq: --threads must be an integer >= 1, got "abc"\n$/,
  },
  {
    name: "ON_FULL=maybe",
    args: ["run", "--tasks", "good.json"],
    env: { ON_FULL: "maybe" },
    exit: 2,
    stderr: /^taskq: ON_FULL must be block or reject, got "maybe" \(from the environment\)\n$/,
  },
  {
    name: "SEED in .env for submit",
    args: ["submit", "--random"],
    dotenv: "SEED=x",
    exit: 2,
    stderr: /^taskq: SEED must be an integer >= 0, got "x" \(from \.env\)\n$/,
  },
  // a handler module with a syntax error: its file and line
  {
    name: "a handler with a syntax error",
    args: ["run", "--handler", "./syntax.mjs", "--tasks", "p.jsonl"],
    exit: 2,
    stderr:
      /^taskq: handler \.\/syntax\.mjs: it failed to load: \/.*\/syntax\.mjs:3: SyntaxError: Unexpected end of input\n$/,
  },
  // `taskq dlq` alone: its usage, with the subcommands, then the one line
  {
    name: "dlq without a subcommand",
    args: ["dlq"],
    exit: 2,
    stderr:
      /^taskq dlq\n\n.*\n\nCommands:\n {2}taskq dlq list .*\n {2}taskq dlq retry \[id\] .*\n {2}taskq dlq purge [\s\S]*\n\ntaskq: give a dlq command: list, retry or purge\n$/,
  },
];

/** Every file under `dir`, with its size: what "nothing created" compares. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .sort()
    .map((name) => {
      const stat = statSync(join(dir, name));
      return `${name} ${stat.isDirectory() ? "directory" : stat.size}`;
    });
}

describe("bad input to the CLI: one line, the documented exit code, no password, nothing created", () => {
  it.each(cases)("$name", async ({ args, env = {}, dotenv, dotenvDirectory, exit, stderr }) => {
    const dir = workdir();
    for (const [name, text] of Object.entries(FILES)) writeFileSync(join(dir, name), text);
    if (dotenv !== undefined) writeFileSync(join(dir, ".env"), `${dotenv}\n`);
    if (dotenvDirectory) mkdirSync(join(dir, ".env"));
    const before = listing(dir);
    const result = await taskq(dir, args, env);
    expect(result.code).toBe(exit);
    expect(result.stderr).toMatch(stderr);
    expect(result.stdout).toBe("");
    expect(result.stderr).not.toMatch(/^ {4}at /m);
    expect(result.stderr).not.toContain(PASSWORD);
    expect(listing(dir)).toEqual(before);
  });
});

describe("the store's old names, --db and IDEMPOTENCY_DB_PATH, still work", () => {
  it("each names the store with one deprecation line; DATABASE_URL, the hosts' convention, with none", async () => {
    const dir = workdir();
    const submit = (id: string, args: string[], env: Record<string, string> = {}) =>
      taskq(dir, ["submit", "--payload", JSON.stringify({ id, type: "noop" }), ...args], env);
    const queued = async (store: string) =>
      JSON.parse((await taskq(dir, ["monitor", "--once", "--export", "json", "--store", store])).stdout)
        .queued;
    const FLAG = "taskq: --db is deprecated, use --store\n";
    const VARIABLE = "taskq: IDEMPOTENCY_DB_PATH is deprecated, use TASKQ_STORE\n";

    // the old flag sets the store (the task is there, not in the default store), one line said once
    const flag = await submit("f", ["--db", "flag.db"]);
    expect([flag.code, flag.stdout, flag.stderr]).toEqual([0, "f\n", FLAG]);
    // the task is in the store the old flag named, as another command reads it through --store
    expect(await queued("flag.db")).toBe(1);
    const status = await taskq(dir, ["status", "f", "--db", "flag.db"]);
    expect([status.code, status.stderr]).toEqual([0, FLAG]);
    // the old variable, from the environment and from .env
    const variable = await submit("e", [], { IDEMPOTENCY_DB_PATH: "env.db" });
    expect([variable.code, variable.stderr]).toEqual([0, VARIABLE]);
    writeFileSync(join(dir, ".env"), "IDEMPOTENCY_DB_PATH=env.db\n");
    expect((await submit("d", [])).stderr).toBe(VARIABLE);
    writeFileSync(join(dir, ".env"), "");
    expect(await queued("env.db")).toBe(2);
    // both old names at once: each said once, and the flag wins over the variable
    const both = await submit("b", ["--db", "flag.db"], { IDEMPOTENCY_DB_PATH: "env.db" });
    expect([both.code, both.stderr]).toEqual([0, FLAG + VARIABLE]);
    expect(await queued("flag.db")).toBe(2);
    // DATABASE_URL: read without a notice when neither TASKQ_STORE nor IDEMPOTENCY_DB_PATH is set
    const url = await submit("u", [], { DATABASE_URL: "url.db" });
    expect([url.code, url.stderr]).toEqual([0, ""]);
    expect((await submit("n", [], { DATABASE_URL: "url.db", TASKQ_STORE: "new.db" })).stderr).toBe("");
    expect([await queued("url.db"), await queued("new.db")]).toEqual([1, 1]);
    expect(existsSync(join(dir, ".taskq", "tasks.db"))).toBe(false);
  });

  it("--help shows --store and its variables, never the old name", async () => {
    const dir = workdir();
    for (const command of [
      ["submit"],
      ["run"],
      ["serve"],
      ["status"],
      ["monitor"],
      ["dlq", "list"],
      ["prune"],
    ]) {
      const { code, stdout } = await taskq(dir, [...command, "--help"]);
      expect(code, command.join(" ")).toBe(0);
      expect(stdout, command.join(" ")).toMatch(
        /--store +task store: .*\n(.*\n)*?.*\[default: TASKQ_STORE, DATABASE_URL or \.taskq\/tasks\.db\]/,
      );
      expect(stdout, command.join(" ")).not.toMatch(/--db\b|IDEMPOTENCY_DB_PATH/);
    }
  });
});

const serverUrl = inject("pgUrl");

/** A role with a password of its own and a database it owns, made by the superuser over the socket. */
async function roleWithPassword(): Promise<URL> {
  const admin = new pg.Client({
    host: process.env.TASKQ_TEST_PG_DIR,
    port: Number(new URL(serverUrl).port),
    user: "postgres",
    database: "postgres",
  });
  await admin.connect();
  const name = `newuser_${process.pid}`;
  try {
    await admin.query(`CREATE ROLE ${name} LOGIN PASSWORD '${PASSWORD}'`);
    await admin.query(`CREATE DATABASE ${name}_app OWNER ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.username = name;
  url.password = PASSWORD;
  url.pathname = `/${name}_app`;
  return url;
}

describe("no password in any output", () => {
  it("the CLI on a PostgreSQL URL with a password, and createQueue on it: every output, log and error", async () => {
    const url = await roleWithPassword();
    const db = url.toString();
    const dir = workdir();
    writeFileSync(join(dir, "p.jsonl"), '{"text": "a"}\n{"text": "b", "fail": true}\n');
    const outputs: [string, Result][] = [];
    /** Runs taskq with every log line on (LOG_LEVEL=debug), keeping its output for the grep. */
    const run = async (args: string[], env: Record<string, string> = {}) => {
      const result = await taskq(dir, args, { LOG_LEVEL: "debug", ...env });
      // the command line itself holds the password: it is the label, with the password left out
      outputs.push([args.join(" ").replaceAll(PASSWORD, "<the password>"), result]);
      return result;
    };

    const submitted = await run([
      "submit",
      "--random",
      "--count",
      "6",
      "--seed",
      "3",
      "--store",
      db,
      "--json",
    ]);
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = (JSON.parse(submitted.stdout) as { id: string }[])[0]?.id as string;
    await run(["submit", "--kind", "upper", "--payload-file", "p.jsonl", "--store", db]);
    expect((await run(["serve", "--exit-when-idle", "--workers", "1", "--db", db])).stdout).toContain(
      "taken from postgres://",
    );
    expect(
      (await run(["run", "--handler", upper, "--tasks", "p.jsonl", "--workers", "1", "--store", db])).code,
    ).toBe(0);
    expect((await run(["monitor", "--once", "--store", db])).stdout).toContain(`${url.username}:***@`);
    await run(["monitor", "--once", "--export", "json", "--store", db]);
    await run(["monitor", "--once", "--export", "prometheus", "--store", db]);
    expect((await run(["status", id, "--store", db])).code).toBe(0);
    await run(["status", id, "--store", db, "--json"]);
    await run(["dlq", "list", "--store", db]);
    await run(["dlq", "list", "--store", db, "--json"]);
    // the same URL from the environment and from .env
    await run(["monitor", "--once"], { TASKQ_STORE: db });
    await run(["monitor", "--once"], { IDEMPOTENCY_DB_PATH: db });
    writeFileSync(join(dir, ".env"), `DATABASE_URL=${db}\n`);
    await run(["dlq", "list"]);
    // and by --store-env NAME, from the environment and from .env: the command line (what ps
    // shows every user of the machine) holds no password at all
    const byName = [
      ["status", id, "--store-env", "APP_DB"],
      ["submit", "--kind", "upper", "--payload", '{"text":"c"}', "--store-env", "APP_DB"],
    ];
    for (const args of byName) {
      expect(args.join(" ")).not.toContain(PASSWORD);
      expect((await run(args, { APP_DB: db })).code, args.join(" ")).toBe(0);
    }
    writeFileSync(join(dir, ".env"), `APP_DB=${db}\n`);
    expect((await run(["monitor", "--once", "--store-env", "APP_DB"])).stdout).toContain(
      `${url.username}:***@`,
    );
    writeFileSync(join(dir, ".env"), "");

    // the errors: a wrong password, a closed port, a missing task, a typo in the scheme, at
    // both log levels (debug adds the stack trace: that must not hold it either)
    const wrong = new URL(db);
    wrong.password = `${PASSWORD}-wrong`;
    const closed = new URL(db);
    closed.port = "1";
    const typo = db.replace(/^postgres:/, "postgress:");
    for (const level of ["warn", "debug"]) {
      for (const [args, exit] of [
        [["submit", "--random", "--store", wrong.toString()], 1],
        [["serve", "--exit-when-idle", "--store", wrong.toString()], 1],
        [["monitor", "--once", "--store", closed.toString()], 1],
        [["status", "ghost", "--store", db], 1],
        [["dlq", "list", "--store", typo], 2],
        [["run", "--tasks", "p.jsonl", "--store", typo], 2],
      ] as const) {
        const result = await run([...args], { LOG_LEVEL: level });
        expect(result.code, args.join(" ")).toBe(exit);
        if (level === "warn") expect(result.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      }
    }

    // the library, with every log line kept
    const logged: unknown[] = [];
    const keep =
      (level: string) =>
      (...args: unknown[]) =>
        logged.push([level, ...args]);
    const logger = { debug: keep("debug"), info: keep("info"), warn: keep("warn"), error: keep("error") };
    const queue = await createQueue<{ text: string; fail?: boolean }, unknown>({
      handler: upper,
      store: db,
      threads: 0,
      logger,
      logLevel: "debug",
      retry: { attempts: 1 },
    });
    await queue.submit({ text: "library" });
    await queue.submit({ text: "x", fail: true }).catch((error: unknown) => logged.push(String(error)));
    const library = [
      queue.store.location,
      JSON.stringify(queue.metrics()),
      queue.prometheus(),
      JSON.stringify(await queue.store.statusCounts(1000)),
      JSON.stringify(await queue.store.leaseHolders()),
    ];
    await queue.close();
    for (const store of [wrong.toString(), closed.toString(), typo])
      await createQueue({ handler: upper, store, threads: 0, logger }).then(
        (q) => q.close(),
        (error: Error) => library.push(`${error.name}: ${error.message}\n${error.stack}`),
      );
    expect(library.slice(-3)).toEqual([
      expect.stringMatching(/refused the credentials/),
      expect.stringMatching(/connection refused/),
      expect.stringMatching(/^ConfigError: store: unknown scheme "postgress:\/\/"/),
    ]);

    const everything = [
      ...outputs.map(([args, r]) => `$ taskq ${args}\n${r.stdout}${r.stderr}`),
      ...library,
      JSON.stringify(logged),
    ].join("\n");
    // all of it was looked at: the runs printed their summaries and the logs are not empty
    expect(outputs.length).toBeGreaterThan(20);
    expect(everything).toContain("SERVE: ");
    expect(everything.length).toBeGreaterThan(5000);
    for (const [args, result] of outputs)
      expect(`${result.stdout}${result.stderr}`, `taskq ${args}`).not.toContain(PASSWORD);
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(encodeURIComponent(PASSWORD));
  });
});
