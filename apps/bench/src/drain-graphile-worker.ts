// One graphile-worker process for `taskq-bench drain`: a no-op task, batched (localQueue fetches
// many jobs per query, completions are batched), until SIGTERM.
//   node dist/drain-graphile-worker.js <database URL> [concurrency]
import { Logger, run } from "graphile-worker";

const [url, concurrency] = [process.argv[2], Number(process.argv[3] ?? 24)];
const runner = await run({
  connectionString: url,
  concurrency,
  noHandleSignals: true,
  pollInterval: 1000,
  taskList: { noop: async () => undefined },
  preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
  logger: new Logger(() => () => undefined), // quiet, as a taskq worker is
});
process.once("SIGTERM", () => void runner.stop().then(() => process.exit(0)));
await runner.promise;
