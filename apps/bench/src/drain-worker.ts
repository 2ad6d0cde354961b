// One taskq worker process for `taskq-bench drain`: createWorker (serve's loop, with its
// defaults, or the createWorker options given as JSON) on the no-op handler, until SIGTERM.
// A bad option ends it with one line on stderr, which the bench reports.
//   node dist/drain-worker.js <store URL> ['{"threads":0}']
import { createWorker } from "taskq";

const [store, options = "{}"] = process.argv.slice(2);
try {
  const worker = await createWorker({
    ...JSON.parse(options),
    store,
    handlers: { noop: new URL("./noop-handler.js", import.meta.url) },
  });
  process.once("SIGTERM", () => void worker.close().then(() => process.exit(0)));
} catch (error) {
  process.stderr.write(`drain worker: ${(error as Error).message}\n`);
  process.exit(1);
}
