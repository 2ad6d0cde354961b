// A history run's worker process: createWorker on every history kind, each attempt recorded by
// its handler in this process's history file, and each lifecycle hook (after the store recorded
// the step) beside it. Ends on SIGTERM (a draining close).
//   node dist/history/worker.js '<json: { store, historyDir }>' (its file: worker-<pid>.jsonl there)
import { join } from "node:path";
import { createWorker } from "taskq";
import type { AttemptEvent } from "./model.js";
import { appendEvent } from "./record.js";
import { KIND_HANDLERS, WORKER_SETTINGS } from "./workload.js";

const { store, historyDir } = JSON.parse(process.argv[2] ?? "{}") as { store: string; historyDir: string };
const historyFile = join(historyDir, `worker-${process.pid}.jsonl`);
const handlers = Object.fromEntries(
  Object.entries(KIND_HANDLERS).map(([kind, file]) => [kind, new URL(`./${file}`, import.meta.url).pathname]),
);
const hook =
  (name: string) =>
  (e: { id: string; key: string; kind: string; attempt: number }): void => {
    const event: AttemptEvent = {
      ev: "hook",
      hook: name,
      pid: process.pid,
      kind: e.kind,
      id: e.id,
      key: e.key,
      attempt: e.attempt,
      t: Date.now(),
    };
    appendEvent(historyFile, event);
  };

// The kernel sends SIGHUP (then SIGCONT) to an orphaned process group that has a stopped member
// when another member exits: a run started in the background (nohup) lost a SIGSTOPped worker to
// it once in ten minutes. The harness's environment, not a fault of the run: heard and ignored.
process.on("SIGHUP", () => undefined);

try {
  const worker = await createWorker({
    ...WORKER_SETTINGS,
    store,
    handlers,
    handlerOptions: { historyFile },
    hooks: {
      started: hook("started"),
      succeeded: hook("succeeded"),
      retrying: hook("retrying"),
      deadLettered: hook("deadLettered"),
      cancelled: hook("cancelled"),
    },
  });
  process.send?.({ ready: true });
  process.once("SIGTERM", () => {
    void worker.close({ drain: true, timeoutMs: 5000 }).then(() => process.exit(0));
  });
} catch (error) {
  process.stderr.write(`history worker: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
}
