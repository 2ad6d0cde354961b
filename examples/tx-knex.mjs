// Transactional enqueue with Knex over `pg`: inside `knex.transaction(async (trx) => ...)` taskq's
// statements run through `trx` too, by a small adapter (taskq's `tx` takes anything with
// `query(text, values)` answering `{ rows }`; Knex's transaction runs raw SQL by `trx.raw`). The
// task is stored, and workers woken, only if the transaction commits; when the callback throws,
// Knex rolls back and the task is gone with your rows. PostgreSQL only:
//
//   DATABASE_URL=postgres://user:password@host/db node examples/tx-knex.mjs
import knex from "knex";
import { connect, createWorker } from "taskq";

/**
 * Knex's transaction as taskq's `tx`. taskq sends PostgreSQL's numbered parameters ($1, $2 ...,
 * one number may appear twice) and `trx.raw` takes a `?` per value, so each `$n` becomes a `?`
 * with its value, in the text's order; a `?` already in the text is escaped (`\?`), as Knex reads it.
 */
const knexTx = (trx) => ({
  query(text, values = []) {
    const ordered = [];
    const positional = text.replace(/\?/g, "\\?").replace(/\$(\d+)/g, (_, n) => {
      ordered.push(values[Number(n) - 1]);
      return "?";
    });
    return trx.raw(positional, ordered); // on pg, the driver's result: { rows, ... }
  },
});

const url = process.env.DATABASE_URL;
const db = knex({ client: "pg", connection: url });
if (!(await db.schema.hasTable("orders")))
  await db.schema.createTable("orders", (table) => {
    table.increments("id"); // serial PRIMARY KEY
    table.text("item").notNullable();
    table.integer("qty").notNullable();
  });
const client = await connect({ store: url }); // taskq's own connections: get, result, and so on
// a worker, as on another machine: it runs a receipt task once one is committed
const handlers = { receipt: new URL("./handlers/receipt.mjs", import.meta.url) };
const worker = await createWorker({ store: url, handlers });

// committed: the order and its receipt task, both stored
const taskId = await db.transaction(async (trx) => {
  const [order] = await trx("orders").insert({ item: "widget", qty: 4 }).returning("id");
  // the key: one receipt per order; tx: this transaction, adapted
  const payload = { orderId: order.id, item: "widget", qty: 4 };
  const task = await client.enqueue("receipt", payload, { key: `order-${order.id}`, tx: knexTx(trx) });
  console.log("before commit:", (await client.get(task.id)) ?? "no task"); // no other connection sees it yet
  return task.id;
});
console.log("after commit, ran:", (await client.result(taskId)).receipt);

// rolled back: the callback throws (the payment was declined, say); the order and its task, both gone
let rolledBack;
try {
  await db.transaction(async (trx) => {
    const [order] = await trx("orders").insert({ item: "gadget", qty: 1 }).returning("id");
    const payload = { orderId: order.id, item: "gadget", qty: 1 };
    const task = await client.enqueue("receipt", payload, { key: `order-${order.id}`, tx: knexTx(trx) });
    rolledBack = { orderId: order.id, taskId: task.id };
    throw new Error("payment declined");
  });
} catch (error) {
  const order = await db("orders").select("id").where("id", rolledBack.orderId).first();
  console.log(
    `after rollback (${error.message}):`,
    (await client.get(rolledBack.taskId)) ?? "no task",
    order ?? "no order",
  );
}

await worker.close();
await client.close();
await db.destroy();
