// A database of its own on the test run's PostgreSQL server, for a test file whose tasks must not
// meet another file's (the server is shared by every test file of the package).
import pg from "pg";

let made = 0;

/** Creates an empty database on the server of `url` and returns its URL. */
export async function freshDatabase(url: string, prefix: string): Promise<string> {
  const name = `${prefix}_${process.pid}_${++made}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const target = new URL(url);
  target.pathname = `/${name}`;
  return target.toString();
}
