// The transactional-enqueue examples (tx-pg, tx-kysely, tx-knex), each run as a user would run it
// (`DATABASE_URL=... node examples/<name>.mjs`) on the test run's PostgreSQL: what it prints, and
// then the promise itself, read from the store and the application's table: every committed order
// has its receipt task (run), and a rolled-back order left no task behind.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { connect } from "taskq";
import { describe, expect, inject, it } from "vitest";

const url = inject("pgUrl");

const run = async (name: string) => {
  const script = new URL(`../${name}.mjs`, import.meta.url).pathname;
  const cwd = mkdtempSync(join(tmpdir(), "taskq-example-"));
  const { stdout } = await promisify(execFile)(process.execPath, [script], {
    cwd,
    env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: "warn" },
  });
  return stdout.trim().split("\n");
};

/** The orders the examples committed, and the receipt tasks in the store: keys and statuses. */
async function ordersAndTasks() {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const client = await connect({ store: url });
  try {
    // before the first example made it, no orders table
    const made = (await db.query("SELECT to_regclass('orders') IS NOT NULL AS made")).rows[0].made;
    const orders = made ? await db.query<{ id: number }>("SELECT id FROM orders ORDER BY id") : { rows: [] };
    const tasks = await client.store.listTasks({ kind: "receipt", limit: 500 });
    return {
      orders: orders.rows.map((row) => `order-${row.id}`),
      tasks: tasks.map((task) => `${task.idempotencyKey} ${task.status}`).sort(),
    };
  } finally {
    await client.close();
    await db.end();
  }
}

describe("transactional enqueue, by example", () => {
  const examples = [
    [
      "tx-pg",
      ["before COMMIT: no task", "after COMMIT, ran: 2 x widget", "after ROLLBACK: no task no order"],
    ],
    [
      "tx-kysely",
      [
        "before commit: no task",
        "after commit, ran: 3 x widget",
        "after rollback (payment declined): no task no order",
      ],
    ],
    [
      "tx-knex",
      [
        "before commit: no task",
        "after commit, ran: 4 x widget",
        "after rollback (payment declined): no task no order",
      ],
    ],
  ] as const;

  // in order, on one database: each adds one order and one receipt, and leaves none of its rollback
  it.each(examples)(
    "%s: committed, the order and its task (run); rolled back, neither",
    async (name, printed) => {
      const before = await ordersAndTasks();
      expect(await run(name)).toEqual(printed);
      const after = await ordersAndTasks();
      expect(after.orders).toHaveLength(before.orders.length + 1);
      // one task per committed order, each succeeded; none for the rolled-back order
      expect(after.tasks).toEqual(after.orders.map((key) => `${key} succeeded`).sort());
    },
  );
});
