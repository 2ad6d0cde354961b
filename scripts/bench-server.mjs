// The PostgreSQL server of a benchmark script: the one at `pgUrl` (a role that may CREATE
// DATABASE), or a throwaway durable one (postgres-server.mjs); fresh databases on it, each
// dropped by `drop` or at `stop`. `pg` is the caller's (this folder resolves no packages).
import { startPostgres } from "./postgres-server.mjs";

/** @param {string | undefined} pgUrl @param {typeof import("pg").default} pg */
export async function benchServer(pgUrl, pg) {
  const server = pgUrl ? { url: pgUrl, stop() {} } : await startPostgres({ durable: true });
  const admin = async (sql) => {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  const made = new Set();
  let count = 0;
  const drop = async (name) => {
    made.delete(name);
    await admin(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined);
  };
  return {
    url: server.url,
    /** A new database `<prefix>_<pid>_<n>`: its name and URL. */
    async freshDatabase(prefix) {
      const name = `${prefix}_${process.pid}_${++count}`;
      await admin(`CREATE DATABASE ${name}`);
      made.add(name);
      const url = new URL(server.url);
      url.pathname = `/${name}`;
      return { name, url: url.toString() };
    },
    drop,
    /** Drops what is left and stops a throwaway server. */
    async stop() {
      for (const name of [...made]) await drop(name);
      server.stop();
    },
  };
}
