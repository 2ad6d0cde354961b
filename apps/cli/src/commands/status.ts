import type { TaskLog } from "@taskq/idempotency";
import {
  ATTEMPT_OUTCOMES,
  attemptsInWords,
  CliError,
  duration,
  readTaskView,
  readWorkers,
  redactUrl,
  type TaskView,
  type WorkerReading,
  withExistingStore,
} from "taskq/app";
import type { Argv } from "yargs";
import { storeOption } from "../options.js";

export const statusCommand = {
  command: "status <id>",
  describe: "Show a task's record",
  builder: (y: Argv) =>
    storeOption(y)
      .positional("id", { type: "string", demandOption: true, describe: "task id" })
      .option("json", {
        type: "boolean",
        default: false,
        describe:
          "print JSON: the whole record, internals included (output key, ETag, version, lease), and its log",
      })
      .option("log", {
        type: "boolean",
        default: false,
        describe: `print every line of the task's log (ctx.log), not only the last ${LOG_TAIL}`,
      })
      .example(
        "taskq status t-0001",
        "status, attempts, result, last error, when it ran and how long it took",
      ),
  handler: (argv: { id: string; store: string; json: boolean; log: boolean }) =>
    withExistingStore(argv.store, async (store) => {
      // the task as every reader shows it; "scheduled" and run times by the store's clock
      const [records, now] = await Promise.all([store.getById(String(argv.id)), store.now()]);
      if (records.length === 0)
        throw new CliError(`no task with id ${JSON.stringify(argv.id)} in ${redactUrl(store.location)}`, 1);
      // each with its every attempt (the kept ones and the row's own)
      const views = await Promise.all(records.map((r) => readTaskView(store, r, now)));
      // and its log (ctx.log: at most 1,000 lines a task)
      const logs = await Promise.all(records.map((r) => store.logs(r.seq)));
      if (argv.json) {
        // the result as JSON, as the payload is (null when there is none)
        const json = views.map((v, i) => ({
          ...v,
          result: v.result === undefined ? null : v.result,
          log: logs[i],
        }));
        console.log(JSON.stringify(json.length === 1 ? json[0] : json, null, 2));
        return;
      }
      // a running task is leased to a worker: executing there now, or waiting in it for a slot
      const workers = records.some((r) => r.status === "running") ? await readWorkers(store) : [];
      for (const [i, v] of views.entries())
        console.log([...lines(v, workers), ...logLines(logs[i] as TaskLog, argv.log)].join("\n"));
    }),
};

/** A line of the status: its label, aligned. */
const row = (label: string, value: string) => `${`${label}:`.padEnd(17)}${value}`;

/**
 * A task's lines, from its view: what it is, its attempts in words, its result or last error, and
 * when it was created, started, finished or will run, and how long it took. The record's internals
 * (output key, ETag, version, lease, updated) are `--json`'s.
 */
function lines(v: TaskView, workers: readonly WorkerReading[]): string[] {
  const at = (ms: number) => new Date(ms).toISOString();
  const result =
    v.result === undefined ? undefined : typeof v.result === "string" ? v.result : JSON.stringify(v.result);
  const dueInMs = v.dueInMs ?? 0;
  return [
    row("id", v.id),
    row("kind", v.kind),
    row(
      "status",
      `${v.status}${v.status === "running" ? ` (${leaseOf(v.leaseOwner, workers)})` : ""}${
        v.scheduled ? ` (scheduled for ${at(v.nextRunAt)})` : ""
      }${v.status === "queued" && (v.waitingFor ?? 0) > 0 ? ` (waiting for ${v.waitingFor} of its parents)` : ""}`,
    ),
    row("attempts", attemptsInWords(v)),
    row("priority", String(v.priority)),
    ...(v.tags.length === 0 ? [] : [row("tags", v.tags.join(", "))]),
    ...(v.correlationId === null ? [] : [row("correlation id", v.correlationId)]),
    ...(v.progress === null ? [] : [row("progress", clipped(JSON.stringify(v.progress)))]),
    ...(v.group === null ? [] : [row("group", v.group)]),
    ...(v.traceContext === null ? [] : [row("traceparent", v.traceContext.traceparent)]),
    row("idempotency key", v.idempotencyKey),
    ...(result === undefined ? [] : [row("result", result.length > 80 ? `${result.slice(0, 80)}…` : result)]),
    ...(v.errorClass ? [row("last error", `${v.errorClass}: ${v.errorMessage}`)] : []),
    row("created", at(v.createdAt)),
    ...links("parents", v.parents),
    ...links("children", v.children),
    ...(v.status === "queued" && (v.waitingFor ?? 0) === 0
      ? [
          row(
            "runs at",
            `${at(v.nextRunAt)} (${dueInMs > 0 ? `in ${duration(dueInMs)}` : `due ${duration(-dueInMs)} ago`})`,
          ),
        ]
      : []),
    // a queued task's startedAt is an earlier attempt's
    ...(v.status !== "queued" && v.startedAt !== null ? [row("started", at(v.startedAt))] : []),
    ...(v.cancelRequested && v.cancelRequestedAt !== null
      ? [row("cancel asked", at(v.cancelRequestedAt))]
      : []),
    ...(v.finishedAt !== null ? [row("finished", at(v.finishedAt))] : []),
    // its latest attempt's: to its end, or so far
    ...(v.runMs === null
      ? []
      : [
          row(
            "duration",
            `${duration(v.runMs)}${v.status === "running" ? " so far" : ""}${v.attempts > 1 ? ` (attempt ${v.attempts})` : ""}`,
          ),
        ]),
    ...attemptHistory(v),
  ];
}

/** A task's parents or children (workflows), one line: each id with its status. */
function links(label: string, list: TaskView["parents"]): string[] {
  if (list === undefined || list.length === 0) return [];
  const shown = list.slice(0, 20).map((l) => `${l.id} (${l.status}${l.runAnyway ? ", runs anyway" : ""})`);
  return [row(label, `${shown.join(", ")}${list.length > 20 ? `, and ${list.length - 20} more` : ""}`)];
}

/**
 * The task's attempts one by one, oldest first: its number, outcome, start, duration, worker, and
 * its error's class and message (the stack is --json's).
 */
function attemptHistory(v: TaskView): string[] {
  const history = v.attemptHistory ?? [];
  if (history.length === 0) return [];
  return [
    "each attempt:",
    ...history.map((a) => {
      const when = a.startedAt === null ? "start unknown" : `started ${new Date(a.startedAt).toISOString()}`;
      const took =
        a.durationMs === null ? "" : `, ${duration(a.durationMs)}${a.outcome === "running" ? " so far" : ""}`;
      const where = a.worker === null ? "" : ` on ${a.worker}`;
      const error = a.errorClass === null ? "" : `\n      ${a.errorClass}: ${a.errorMessage ?? ""}`;
      return `  ${a.attempt}. ${ATTEMPT_OUTCOMES[a.outcome]}, ${when}${took}${where}${error}`;
    }),
  ];
}

/** How many of a log's last lines the status shows without --log. */
const LOG_TAIL = 10;

/** Text past 80 characters cut, with "…". */
const clipped = (text: string) => (text.length > 80 ? `${text.slice(0, 80)}…` : text);

/**
 * The task's log: its last LOG_TAIL lines (every line with `all`), each with its time and
 * attempt, and how many were dropped past the cap.
 */
function logLines(log: TaskLog, all: boolean): string[] {
  if (log.lines.length === 0 && log.dropped === 0) return [];
  const shown = all ? log.lines : log.lines.slice(-LOG_TAIL);
  const earlier = log.lines.length - shown.length;
  return [
    `log (${log.lines.length} line${log.lines.length === 1 ? "" : "s"}):`,
    ...(earlier > 0
      ? [`  … ${earlier} earlier line${earlier === 1 ? "" : "s"} (--log shows every line)`]
      : []),
    ...shown.map((l) => `  ${new Date(l.at).toISOString()} [${l.attempt}] ${l.line}`),
    ...(log.dropped > 0
      ? [`  … ${log.dropped} more line${log.dropped === 1 ? "" : "s"} dropped (a task keeps 1,000)`]
      : []),
  ];
}

/** Where a running task is: its worker, and how many of the tasks it holds that worker executes. */
function leaseOf(owner: string | null, workers: readonly WorkerReading[]): string {
  if (owner === null) return "leased to no one";
  const worker = workers.find((w) => w.owner === owner);
  if (!worker || worker.executing === null) return `leased to ${owner}, which has not reported lately`;
  return `leased to ${owner}, which executes ${worker.executing} of the ${worker.leased} tasks it holds`;
}
