#!/usr/bin/env node
// A throwaway PostgreSQL server for tests and benchmarks: initdb in a new directory, a free port
// on 127.0.0.1, password auth over TCP for a `taskq` role (trust only on the unix socket), and
// removal on stop. Debian's initdb and pg_ctl refuse to run as root, so as root they run as the
// `postgres` user (runuser). `.ci/run` installs Debian's postgresql package when initdb is missing.
//
//   node scripts/postgres-server.mjs            start one, print its URL, stop it on Ctrl-C
//   import { startPostgres } from ".../postgres-server.mjs"   (vitest global setups, the bench)
import { execFileSync, spawnSync } from "node:child_process";
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

/** The password of the `taskq` role every throwaway server has (loopback only, removed on stop). */
export const TEST_PASSWORD = "taskq-test-pw";

function binDir() {
  const fromEnv = process.env.TASKQ_PG_BINDIR;
  if (fromEnv && existsSync(join(fromEnv, "initdb"))) return fromEnv;
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], "bin");
  }
  const which = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" });
  if (which.status === 0 && which.stdout.trim()) return join(which.stdout.trim(), "..");
  throw new Error(
    "cannot start a PostgreSQL server for the tests: initdb was not found (install Debian's postgresql package; .ci/run does)",
  );
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const asRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL binary, as the postgres user when we are root. */
function pgRun(bin, args, what) {
  const [cmd, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, args];
  const out = spawnSync(cmd, argv, { encoding: "utf8" });
  if (out.status !== 0) {
    throw new Error(
      `cannot start a PostgreSQL server for the tests: ${what} failed: ${(out.stderr || out.stdout).trim()}`,
    );
  }
  return out.stdout;
}

/** Runs pg_ctl on the server in `dir` (as a test that restarts it mid-run does), e.g. ["restart", "-m", "fast"]. */
export function pgCtl(dir, args) {
  return pgRun(
    join(binDir(), "pg_ctl"),
    ["-D", join(dir, "data"), "-l", join(dir, "log"), "-w", ...args],
    `pg_ctl ${args[0]}`,
  );
}

/**
 * Starts a server. Resolves with its TCP URL (role `taskq`, database `taskq`), the superuser
 * URL over the unix socket, a `pgCtl(args)` helper (restart, stop) and `stop()`.
 */
export async function startPostgres(options = {}) {
  const bin = binDir();
  // /dev/shm when present: a throwaway cluster needs no disk, and tests do not pay for fsyncs
  const base = options.dir ?? (existsSync("/dev/shm") ? "/dev/shm" : "/tmp");
  const dir = mkdtempSync(join(base, "taskq-pg-"));
  chmodSync(dir, 0o700);
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, "data");
  const port = await freePort();
  const stop = () => {
    spawnSync(asRoot ? "runuser" : join(bin, "pg_ctl"), [
      ...(asRoot ? ["-u", "postgres", "--", join(bin, "pg_ctl")] : []),
      "-D",
      data,
      "-m",
      "immediate",
      "-w",
      "stop",
    ]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pwfile = join(dir, "pw");
    writeFileSync(pwfile, `${TEST_PASSWORD}\n`);
    if (asRoot) execFileSync("chown", ["postgres", pwfile]);
    pgRun(
      join(bin, "initdb"),
      [
        "-D",
        data,
        "-U",
        "postgres",
        "-E",
        "UTF8",
        "--no-sync",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        `--pwfile=${pwfile}`,
      ],
      "initdb",
    );
    // in postgresql.conf, so a plain `pg_ctl start` or `restart` (a test's) brings it back the same
    const settings = [
      `port = ${port}`,
      `unix_socket_directories = '${dir}'`,
      "listen_addresses = '127.0.0.1'",
      "max_connections = 200",
      ...(options.durable ? [] : ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]),
    ];
    appendFileSync(join(data, "postgresql.conf"), `\n# taskq throwaway server\n${settings.join("\n")}\n`);
    pgRun(join(bin, "pg_ctl"), ["-D", data, "-l", join(dir, "log"), "-w", "start"], "pg_ctl start");
    const psql = (sql) =>
      pgRun(
        join(bin, "psql"),
        ["-h", dir, "-p", String(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql],
        "psql",
      );
    psql(`CREATE ROLE taskq LOGIN CREATEDB PASSWORD '${TEST_PASSWORD}'`);
    psql("CREATE DATABASE taskq OWNER taskq");
  } catch (error) {
    stop();
    throw error;
  }
  return {
    url: `postgres://taskq:${TEST_PASSWORD}@127.0.0.1:${port}/taskq`,
    port,
    dir,
    /** pg_ctl with these arguments, e.g. ["restart", "-m", "fast"]. */
    pgCtl: (args) => pgCtl(dir, args),
    stop,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await startPostgres({ durable: process.argv.includes("--durable") });
  console.log(server.url);
  const end = () => {
    server.stop();
    process.exit(0);
  };
  process.on("SIGINT", end);
  process.on("SIGTERM", end);
  setInterval(() => undefined, 1 << 30);
}
