// Transactional enqueue with Kysely over `pg`: inside `db.transaction().execute(async (trx) => ...)`
// taskq's statements run through `trx` too, by a two-line adapter (taskq's `tx` takes anything
// with `query(text, values)` answering `{ rows }`; Kysely's transaction runs raw SQL by
// `trx.executeQuery(CompiledQuery.raw(text, values))`). The task is stored, and workers woken,
// only if the transaction commits; when the callback throws, Kysely rolls back and the task is
// gone with your rows. PostgreSQL only:
//
//   DATABASE_URL=postgres://user:password@host/db node examples/tx-kysely.mjs
import { CompiledQuery, Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { connect, createWorker } from "taskq";

/** Kysely's transaction as taskq's `tx`: taskq's statements ($1, $2 ... and their values) run on it. */
const kyselyTx = (trx) => ({ query: (text, values) => trx.executeQuery(CompiledQuery.raw(text, values)) });

const url = process.env.DATABASE_URL;
const db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }) });
await db.schema
  .createTable("orders")
  .ifNotExists()
  .addColumn("id", "serial", (column) => column.primaryKey())
  .addColumn("item", "text", (column) => column.notNull())
  .addColumn("qty", "integer", (column) => column.notNull())
  .execute();
const client = await connect({ store: url }); // taskq's own connections: get, result, and so on
// a worker, as on another machine: it runs a receipt task once one is committed
const handlers = { receipt: new URL("./handlers/receipt.mjs", import.meta.url) };
const worker = await createWorker({ store: url, handlers });

// committed: the order and its receipt task, both stored
const taskId = await db.transaction().execute(async (trx) => {
  const order = await trx
    .insertInto("orders")
    .values({ item: "widget", qty: 3 })
    .returning("id")
    .executeTakeFirstOrThrow();
  // the key: one receipt per order; tx: this transaction, adapted
  const payload = { orderId: order.id, item: "widget", qty: 3 };
  const task = await client.enqueue("receipt", payload, { key: `order-${order.id}`, tx: kyselyTx(trx) });
  console.log("before commit:", (await client.get(task.id)) ?? "no task"); // no other connection sees it yet
  return task.id;
});
console.log("after commit, ran:", (await client.result(taskId)).receipt);

// rolled back: the callback throws (the payment was declined, say); the order and its task, both gone
let rolledBack;
try {
  await db.transaction().execute(async (trx) => {
    const order = await trx
      .insertInto("orders")
      .values({ item: "gadget", qty: 1 })
      .returning("id")
      .executeTakeFirstOrThrow();
    const payload = { orderId: order.id, item: "gadget", qty: 1 };
    const task = await client.enqueue("receipt", payload, { key: `order-${order.id}`, tx: kyselyTx(trx) });
    rolledBack = { orderId: order.id, taskId: task.id };
    throw new Error("payment declined");
  });
} catch (error) {
  const order = await db
    .selectFrom("orders")
    .select("id")
    .where("id", "=", rolledBack.orderId)
    .executeTakeFirst();
  console.log(
    `after rollback (${error.message}):`,
    (await client.get(rolledBack.taskId)) ?? "no task",
    order ?? "no order",
  );
}

await worker.close();
await client.close();
await db.destroy();
