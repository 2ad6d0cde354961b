// The usual shape of a job-queue application: a producer that enqueues by kind and gets ids back
// (a web process, say), and workers that run the kinds they have handlers for, on one store. Here
// both sit in one script on a SQLite file; on PostgreSQL (`store: "postgres://..."`) they would be
// separate processes on separate machines.
import { connect, createWorker } from "taskq";

const store = ".taskq/app.db";
const handlers = {
  "word-count": new URL("./handlers/word-count.mjs", import.meta.url),
  checksum: new URL("./handlers/checksum.mjs", import.meta.url),
};
const worker = await createWorker({ store, handlers, threads: 1 });
const client = await connect({ store });

const a = await client.enqueue("word-count", { text: "the quick brown fox" });
const b = await client.enqueue("checksum", { seed: 7, size: 1024 });
const again = await client.enqueue("word-count", { text: "the quick brown fox" });
console.log(again.id === a.id && again.duplicate ? "duplicate: same id" : "not a duplicate?");
console.log(a.kind, await client.result(a.id));
console.log(b.kind, await client.result(b.id));
const info = await client.get(a.id);
console.log(info.status, info.attempts, "attempt");

await client.close();
await worker.close();
