// Transactional enqueue with node-postgres (`pg`): the task is stored in your own transaction, so
// it exists if and only if your rows do. Check a client out of your pg.Pool, BEGIN, write your
// rows, enqueue with `{ tx: db }` (that same client, not the pool), COMMIT. Workers are woken at
// the COMMIT; on ROLLBACK the task is gone with the rows, and no worker ever saw it.
// PostgreSQL only:
//
//   DATABASE_URL=postgres://user:password@host/db node examples/tx-pg.mjs
import pg from "pg";
import { connect, createWorker } from "taskq";

const url = process.env.DATABASE_URL;
const pool = new pg.Pool({ connectionString: url });
await pool.query(`CREATE TABLE IF NOT EXISTS orders
  (id serial PRIMARY KEY, item text NOT NULL, qty int NOT NULL)`);
const client = await connect({ store: url }); // taskq's own connections: get, result, and so on
// a worker, as on another machine: it runs a receipt task once one is committed
const handlers = { receipt: new URL("./handlers/receipt.mjs", import.meta.url) };
const worker = await createWorker({ store: url, handlers });
const insertOrder = "INSERT INTO orders (item, qty) VALUES ($1, $2) RETURNING id";

// COMMIT: the order and its receipt task, both stored
let taskId;
const db = await pool.connect();
try {
  await db.query("BEGIN");
  const order = (await db.query(insertOrder, ["widget", 2])).rows[0];
  const payload = { orderId: order.id, item: "widget", qty: 2 };
  // the key: one receipt per order; tx: the client that ran BEGIN
  const task = await client.enqueue("receipt", payload, { key: `order-${order.id}`, tx: db });
  taskId = task.id;
  // not committed yet: no other connection sees the task, the workers' included
  console.log("before COMMIT:", (await client.get(task.id)) ?? "no task");
  await db.query("COMMIT");
} catch (error) {
  await db.query("ROLLBACK");
  throw error;
} finally {
  db.release();
}
console.log("after COMMIT, ran:", (await client.result(taskId)).receipt);

// ROLLBACK (the payment was declined, say): the order and its task, both gone
const db2 = await pool.connect();
try {
  await db2.query("BEGIN");
  const order = (await db2.query(insertOrder, ["gadget", 1])).rows[0];
  const payload = { orderId: order.id, item: "gadget", qty: 1 };
  const task = await client.enqueue("receipt", payload, { key: `order-${order.id}`, tx: db2 });
  await db2.query("ROLLBACK");
  const left = await pool.query("SELECT id FROM orders WHERE id = $1", [order.id]);
  console.log("after ROLLBACK:", (await client.get(task.id)) ?? "no task", left.rows[0] ?? "no order");
} finally {
  db2.release();
}

await worker.close();
await client.close();
await pool.end();
