// Vitest global setup for the packages whose tests need PostgreSQL: one throwaway server per test
// run (scripts/postgres-server.mjs), its URL given to the tests as `inject("pgUrl")` and to child
// processes as TASKQ_TEST_PG_URL. No server, no pass: when none can start, the setup fails the
// run with the reason; the PostgreSQL tests never skip.
/// <reference path="./vitest-context.d.ts" />
import type { TestProject } from "vitest/node";
import { startPostgres } from "./postgres-server.mjs";

export default async function setup(project: TestProject): Promise<() => void> {
  const server = await startPostgres();
  project.provide("pgUrl", server.url);
  process.env.TASKQ_TEST_PG_URL = server.url;
  process.env.TASKQ_TEST_PG_DIR = server.dir;
  return () => server.stop();
}
