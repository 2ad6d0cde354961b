// Time and limits: a task for later, one before the others, a recurring one, and limits on a kind
// across every worker. A producer and a worker on one SQLite file here; the same calls work on
// PostgreSQL with many workers.
import { connect, createWorker } from "taskq";

const store = ".taskq/time.db";
const client = await connect({ store });

// at most 2 word-counts running at once in all workers together, at most 5 started a second
await client.setLimits("word-count", { concurrency: 2, rate: { limit: 5, intervalMs: 1000 } });

// runs no earlier than half a second from now (by the store's clock); `runAt: Date` works too
const later = await client.enqueue("word-count", { text: "later" }, { delayMs: 500 });
// a larger priority runs first (0 by default; a point is worth an hour of waiting)
const urgent = await client.enqueue("word-count", { text: "urgent task" }, { priority: 10 });
console.log("scheduled:", (await client.get(later.id)).scheduled);

// every second (six fields, seconds first); every worker may enqueue an occurrence, once each
await client.schedule("tick", { cron: "* * * * * *", kind: "word-count", payload: { text: "tick tock" } });

const worker = await createWorker({
  store,
  handlers: { "word-count": new URL("./handlers/word-count.mjs", import.meta.url) },
  threads: 1,
});
console.log(await client.result(urgent.id));
console.log(await client.result(later.id));
while ((await client.schedules())[0].lastRunAt === null) await new Promise((r) => setTimeout(r, 50));
console.log("tick: an occurrence enqueued");
await client.unschedule("tick");
const [limits] = await client.limits();
console.log(
  `limits: ${limits.kind} concurrency ${limits.concurrency}, ${limits.rate.limit} per ${limits.rate.intervalMs} ms`,
);

await worker.close();
await client.close();
