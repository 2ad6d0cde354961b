// PostgreSQL for `--store postgres`: the server the user names (`--pg-url`, a role that may
// CREATE DATABASE), or a throwaway durable one (fsync and synchronous commit on) started from
// this repository's scripts/postgres-server.mjs and removed at the end. Every measured run gets a
// database of its own, dropped when the benchmark ends.
import { existsSync } from "node:fs";
import { redactUrl } from "@taskq/idempotency";
import pg from "pg";

export interface BenchDatabases {
  /** Where the server is, without its password. */
  readonly server: string;
  /** A new, empty database; its URL. */
  create(): Promise<string>;
  /** Drops the databases made and stops a throwaway server. */
  dispose(): Promise<void>;
  /**
   * How to reach a database made here (its URL, as `create` gave it) as the superuser
   * (`postgres`, over the unix socket): only on a throwaway server; on the server `--pg-url`
   * names, its role is all there is.
   */
  readonly superuser?: (database: string) => pg.ClientConfig;
}

const serverScript = new URL("../../../scripts/postgres-server.mjs", import.meta.url);

export async function openBenchDatabases(url?: string): Promise<BenchDatabases> {
  let stop: (() => void) | undefined;
  let socket: { dir: string; port: number } | undefined;
  let admin = url;
  if (admin === undefined) {
    if (!existsSync(serverScript))
      throw new Error(
        "--store postgres needs --pg-url outside the taskq repository (no scripts/postgres-server.mjs here)",
      );
    const { startPostgres } = (await import(
      serverScript.href
    )) as typeof import("../../../scripts/postgres-server.mjs");
    const server = await startPostgres({ durable: true });
    admin = server.url;
    stop = server.stop;
    socket = { dir: server.dir, port: server.port };
  }
  const made: string[] = [];
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  /**
   * Drops a run's database. A plain DROP first: the server ends an autovacuum worker there itself,
   * where FORCE, as a role that is not a superuser, fails on it ("must be a member of the role
   * whose process is being terminated"); FORCE then for a connection of ours left open.
   */
  const drop = async (name: string) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await run(`DROP DATABASE IF EXISTS ${name}${attempt % 2 === 1 ? " WITH (FORCE)" : ""}`);
        return;
      } catch (error) {
        if (attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
      }
    }
  };
  const local = socket;
  return {
    // the one redaction (a --pg-url that does not parse, or parses wrongly, is masked too)
    server: redactUrl(admin),
    async create() {
      const name = `taskq_bench_${process.pid}_${made.length + 1}`;
      await run(`CREATE DATABASE ${name}`);
      made.push(name);
      const target = new URL(admin as string);
      target.pathname = `/${name}`;
      return target.toString();
    },
    async dispose() {
      try {
        for (const name of made.splice(0)) await drop(name);
      } finally {
        stop?.();
      }
    },
    ...(local === undefined
      ? {}
      : {
          superuser: (database: string) => ({
            host: local.dir,
            port: local.port,
            user: "postgres",
            database: new URL(database).pathname.slice(1),
          }),
        }),
  };
}
