import { loadPayloadFile, loadTaskFile, prepareTask, toPrepared } from "@taskq/processor";
import { createRng } from "@taskq/storage-sim";
import type { Client, TaskChoices } from "taskq";
import {
  CliError,
  checkKind,
  clientOf,
  correlationIdFlag,
  envDefault,
  groupFlag,
  integerAtLeast,
  integerRule,
  isNewStoreFile,
  newTaskId,
  openStores,
  redactUrl,
} from "taskq/app";
import type { Argv } from "yargs";
import { checkKnownKind, STRICT_OPTION } from "../known-kind.js";
import { renamedFlags, storeOptions } from "../options.js";

interface SubmitArgs {
  payload?: string;
  "payload-file"?: string;
  random: boolean;
  raw: boolean;
  kind?: string;
  strict: boolean;
  count?: number;
  attempts?: number;
  seed: number;
  store: string;
  storage: string;
  json: boolean;
  quiet: boolean;
  "run-at"?: number;
  "delay-ms"?: number;
  priority?: number;
  tag?: string[];
  "correlation-id"?: string;
  after?: string[];
  group?: string;
}

/** `--after ID[,ID]` (repeatable): the parents' ids, each once; one line naming the flag otherwise. */
function afterFlag(values: unknown): string[] {
  const ids = (Array.isArray(values) ? values : [values])
    .flatMap((v) => String(v).split(","))
    .map((v) => v.trim());
  if (ids.length === 0 || ids.some((id) => id === ""))
    throw new CliError(`--after takes task ids separated by commas, got ${JSON.stringify(values)}`, 2);
  return [...new Set(ids)];
}

/** `--run-at`: an ISO time (or epoch ms), to epoch ms; one line naming the flag otherwise. */
function runAtFlag(value: unknown): number {
  const text = String(value);
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms) || ms < 0)
    throw new CliError(
      `--run-at must be an ISO time such as 2026-12-01T09:00:00Z, got ${JSON.stringify(value)}`,
      2,
    );
  return ms;
}

/** `--priority`: an integer, negative allowed. */
function priorityFlag(value: unknown): number {
  const n = Number(value);
  if (String(value).trim() === "" || !Number.isInteger(n) || Math.abs(n) >= 2 ** 31)
    throw new CliError(
      `--priority must be an integer (larger runs first; negative allowed), got ${JSON.stringify(value)}`,
      2,
    );
  return n;
}

/** Tasks of the built-in types the second source system brought (all but image), seeded. */
export function randomTasks(count: number, seed: number): Record<string, unknown>[] {
  const random = createRng(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
  return Array.from({ length: count }, () => {
    const kind = pick(["compute", "compute", "sleep", "http_request", "noop", "fail"] as const);
    switch (kind) {
      case "compute":
        return {
          type: "compute",
          operation: pick(["factorial", "fibonacci", "double"]),
          value: Math.floor(random() * 50),
        };
      case "sleep":
        return { type: "sleep", duration: Math.round(random() * 20) / 100, timeout: 5 };
      case "http_request":
        return {
          type: "http_request",
          url: `https://api.example.com/items/${Math.floor(random() * 1000)}`,
          method: "GET",
        };
      case "noop":
        return { type: "noop" };
      default:
        return { type: "fail", error_message: "Simulated failure" };
    }
  });
}

/** Tasks stored per transaction: a file of any size holds the store's write lock a chunk at a time. */
export const SUBMIT_CHUNK = 1000;

/** A task to store: its kind, its payload, and its own key, id and attempts (the built-in types'). */
interface SubmitTask {
  readonly kind: string;
  readonly payload: unknown;
  readonly choices?: TaskChoices;
}

/** What submit prints of each task: the stored one's id (a duplicate's: the task holding its key). */
interface Submitted {
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  readonly duplicate: boolean;
}

/**
 * Stores `tasks` through the client's `enqueueMany`, SUBMIT_CHUNK at a time: a chunk's tasks of
 * one kind in one call (its transaction), the kinds in the order they first come, the tasks of a
 * kind in the order given. Answers in the order given. A chunk that fails leaves the chunks before
 * it stored: the error says how many.
 */
async function enqueueAll(
  client: Client,
  tasks: readonly SubmitTask[],
  o: {
    attempts?: number;
    priority?: number;
    runAt?: number;
    delayMs?: number;
    tags?: readonly string[];
    correlationId?: string;
    after?: readonly string[];
    group?: string;
  },
): Promise<Submitted[]> {
  const { attempts, after, ...timing } = o;
  const results: Submitted[] = new Array(tasks.length);
  if (after !== undefined) {
    // each task after the same parents: an enqueue each (a flow of one task)
    for (const [i, task] of tasks.entries()) {
      const own = task.choices ?? {};
      const maxAttempts = attempts ?? own.maxAttempts;
      const e = await client.enqueue(task.kind, task.payload, {
        ...timing,
        ...own,
        ...(maxAttempts === undefined ? {} : { maxAttempts }),
        after,
      });
      results[i] = { id: e.id, kind: e.kind, status: e.status, duplicate: e.duplicate };
    }
    return results;
  }
  for (let from = 0; from < tasks.length; from += SUBMIT_CHUNK) {
    const byKind = new Map<string, number[]>();
    for (let i = from; i < Math.min(from + SUBMIT_CHUNK, tasks.length); i++) {
      const kind = (tasks[i] as SubmitTask).kind;
      const at = byKind.get(kind);
      if (at) at.push(i);
      else byKind.set(kind, [i]);
    }
    try {
      for (const [kind, at] of byKind) {
        const enqueued = await client.enqueueMany(
          kind,
          at.map((i) => (tasks[i] as SubmitTask).payload),
          {
            ...timing,
            perTask: at.map((i) => {
              const own = (tasks[i] as SubmitTask).choices ?? {};
              const maxAttempts = attempts ?? own.maxAttempts;
              return { ...own, ...(maxAttempts === undefined ? {} : { maxAttempts }) };
            }),
          },
        );
        enqueued.forEach((e, j) => {
          results[at[j] as number] = { id: e.id, kind: e.kind, status: e.status, duplicate: e.duplicate };
        });
      }
    } catch (error) {
      const stored = results.filter(Boolean).length;
      if (stored > 0)
        process.stderr.write(
          `taskq: ${stored} of ${tasks.length} task(s) were stored before the error below\n`,
        );
      throw error;
    }
  }
  return results;
}

export const submitCommand = {
  command: "submit",
  describe: "Write tasks into the durable store for a `taskq serve` to run (from any process)",
  builder: (y: Argv) =>
    renamedFlags(storeOptions(y), ["attempts"])
      .option("payload", { type: "string", describe: "one task as JSON" })
      .option("payload-file", { type: "string", describe: "a task file (JSON array or JSON Lines)" })
      .option("random", { type: "boolean", default: false, describe: "random tasks of every type" })
      .option("kind", {
        type: "string",
        requiresArg: true,
        describe:
          "the payloads' kind: stored as they are (keyed by a hash of the payload, within the kind) for a `serve --handler KIND=FILE`; default: the built-in task types, by their `type`",
      })
      .option("strict", STRICT_OPTION)
      .option("raw", {
        type: "boolean",
        default: false,
        describe: "with --kind: store the payloads as they are (what --kind does; kept for scripts)",
      })
      .option("count", {
        requiresArg: true,
        coerce: integerAtLeast("count", 1),
        describe: "how many random tasks (default 1)",
      })
      .option("attempts", {
        requiresArg: true,
        coerce: integerAtLeast("attempts", 1),
        describe: "attempts in all for these tasks, the first included",
      })
      .option("seed", {
        requiresArg: true,
        default: envDefault("seed", integerRule(0)) as number,
        coerce: integerAtLeast("seed", 0),
        describe: "seed of --random",
      })
      .option("json", { type: "boolean", default: false, describe: "print the result as JSON" })
      .option("quiet", {
        type: "boolean",
        default: false,
        describe: "print one summary line, not an id per task",
      })
      .option("run-at", {
        requiresArg: true,
        coerce: runAtFlag,
        describe: "run no earlier than this time (ISO 8601, e.g. 2026-12-01T09:00:00Z)",
      })
      .option("delay-ms", {
        requiresArg: true,
        coerce: integerAtLeast("delay-ms", 0),
        describe: "run no earlier than this many ms from now (by the store's clock)",
      })
      .option("priority", {
        requiresArg: true,
        coerce: priorityFlag,
        describe: "larger runs first (default 0; negative allowed; a point is worth an hour of waiting)",
      })
      .option("tag", {
        type: "string",
        array: true,
        requiresArg: true,
        describe: "a tag to find the tasks by (taskq list --tag); repeat for more",
      })
      .option("correlation-id", {
        type: "string",
        requiresArg: true,
        coerce: correlationIdFlag("correlation-id"),
        describe:
          "the id of what caused the tasks (a request id): on every log line of their attempts; taskq list --correlation-id finds them",
      })
      .option("after", {
        type: "string",
        array: true,
        requiresArg: true,
        coerce: afterFlag,
        describe:
          "run after these tasks (ids, comma-separated or repeated): once every one has succeeded; one that fails cancels these",
      })
      .option("group", {
        type: "string",
        requiresArg: true,
        coerce: groupFlag("group"),
        describe:
          "the tasks' group (a tenant, a customer): in a kind with per-group limits (taskq limits set --per-group-concurrency) groups are taken in turn; taskq list --group finds them",
      })
      .conflicts("run-at", "delay-ms")
      .conflicts("after", ["run-at", "delay-ms"])
      .check((argv) => {
        const sources = [argv.payload !== undefined, argv["payload-file"] !== undefined, argv.random].filter(
          Boolean,
        ).length;
        if (sources !== 1) throw new CliError("give exactly one of --payload, --payload-file, --random", 2);
        // --count draws that many random tasks: with a payload or a file it would be ignored
        if (argv.quiet && argv.json) throw new CliError("--quiet and --json: give one", 2);
        if (!argv.random && argv.count !== undefined)
          throw new CliError("--count goes with --random (a payload or a file stores what it holds)", 2);
        if ((argv.raw || argv.kind !== undefined) && argv.random)
          throw new CliError(
            `${argv.kind !== undefined ? "--kind" : "--raw"} takes --payload or --payload-file, not --random`,
            2,
          );
        if (argv.raw && argv.kind === undefined)
          throw new CliError(
            "--raw needs --kind NAME: the kind of the payloads (a `serve --handler NAME=FILE` runs them)",
            2,
          );
        return true;
      })
      .example(
        `taskq submit --payload '{"type": "compute", "operation": "factorial", "value": 10}'`,
        "one task",
      )
      .example("taskq submit --random --count 20", "20 random tasks")
      .example(`taskq submit --kind email --payload '{"to":"a@example.com"}'`, "a task of kind email")
      .example(
        `taskq submit --kind email --payload '{"to":"a@example.com"}' --strict`,
        "only if the store knows kind email (a worker served it, a schedule or a task has it)",
      )
      .example(
        `taskq submit --payload '{"type": "fail", "error_message": "test"}' --attempts 5`,
        "with a retry limit",
      )
      .example(`taskq submit --kind email --payload '{"to":"a@example.com"}' --delay-ms 60000`, "in a minute")
      .example(
        `taskq submit --kind email --payload '{"to":"b@example.com"}' --priority 10`,
        "before the others",
      )
      .example(
        `taskq submit --kind report --payload '{"month":"2026-11"}' --after task-a,task-b`,
        "once tasks task-a and task-b have succeeded",
      )
      .example(
        `taskq submit --kind import --payload-file rows.jsonl --tag tenant:42 --tag import`,
        "tagged, to find them with taskq list --tag tenant:42",
      ),
  handler: async (argv: SubmitArgs) => {
    // Through the client, as every producer enqueues: its checks, and its time-ordered ids for the
    // tasks that give none (random ones scatter every insert over the id index's pages).
    const tasks: SubmitTask[] = [];
    const invalid: { id: string; raw: unknown; message: string }[] = [];
    // --kind: the payloads of that kind, as they are (keyed by their hash, as the client keys
    // them); otherwise the built-in task types' routing: each task's kind is its type, its key
    // and id its own (an id the task does not give is made as the client makes one)
    const kind = argv.kind === undefined ? undefined : checkKind(argv.kind, "--kind");
    const ofKind = (payload: unknown): SubmitTask => ({ kind: kind as string, payload });
    const builtIn = (p: ReturnType<typeof prepareTask>): SubmitTask => ({
      kind: p.kind,
      payload: p.payload,
      choices: {
        key: p.idempotencyKey,
        id: p.id,
        ...(p.maxAttempts === undefined ? {} : { maxAttempts: p.maxAttempts }),
      },
    });
    if (argv.payload !== undefined) {
      let raw: unknown;
      try {
        raw = JSON.parse(argv.payload);
      } catch (error) {
        throw new CliError(`--payload is not valid JSON: ${(error as Error).message}`, 2);
      }
      tasks.push(
        kind ? ofKind(raw) : builtIn(prepareTask(raw, { generateId: newTaskId, position: "--payload" })),
      );
    } else if (argv["payload-file"] !== undefined && kind) {
      const file = await loadPayloadFile(argv["payload-file"]);
      for (const payload of file.payloads) tasks.push(ofKind(payload));
      for (const bad of file.invalid)
        invalid.push({ id: `#${bad.position}`, raw: bad.raw, message: bad.message });
    } else if (argv["payload-file"] !== undefined) {
      const file = await loadTaskFile(argv["payload-file"], { generateId: newTaskId });
      for (const task of file.tasks) tasks.push(builtIn(toPrepared(task)));
      for (const bad of file.invalid)
        invalid.push({ id: bad.id ?? `#${bad.position}`, raw: bad.raw, message: bad.message });
    } else {
      for (const raw of randomTasks(argv.count ?? 1, argv.seed))
        tasks.push(builtIn(prepareTask(raw, { generateId: newTaskId })));
    }
    // a kind the store does not know is most likely mistyped: said (or refused) before anything
    // is stored, and before a store that is not there yet is made (it knows the built-in types only)
    const newStore = isNewStoreFile(argv.store);
    if (kind !== undefined && newStore) await checkKnownKind(undefined, kind, argv.strict);
    const { store, objects } = await openStores({
      store: argv.store,
      storage: argv.storage,
      chunkSize: envDefault("chunkSize", integerRule(1)) as number,
      attempts: envDefault("attempts", integerRule(1)) as number,
      leaseMs: envDefault("leaseMs", integerRule(1)) as number,
    });
    try {
      if (kind !== undefined && !newStore) await checkKnownKind(store, kind, argv.strict);
      const results = await enqueueAll(clientOf(store, { owned: false }), tasks, {
        // the flag, then the task's own max_attempts, then the store's default (ATTEMPTS)
        ...(argv.attempts === undefined ? {} : { attempts: argv.attempts }),
        ...(argv.priority === undefined ? {} : { priority: argv.priority }),
        ...(argv["run-at"] === undefined ? {} : { runAt: argv["run-at"] }),
        ...(argv["delay-ms"] === undefined ? {} : { delayMs: argv["delay-ms"] }),
        ...(argv.tag === undefined ? {} : { tags: argv.tag.map(String) }),
        ...(argv["correlation-id"] === undefined ? {} : { correlationId: argv["correlation-id"] }),
        ...(argv.after === undefined ? {} : { after: argv.after }),
        ...(argv.group === undefined ? {} : { group: argv.group }),
      });
      for (const bad of invalid) {
        await store.recordInvalid(bad.id, bad.raw ?? null, {
          errorClass: "validation",
          message: bad.message,
        });
        process.stderr.write(`taskq: skipped ${bad.message} (dead-lettered)\n`);
      }
      if (argv.json) console.log(JSON.stringify(results, null, 2));
      else if (argv.quiet) {
        const duplicates = results.filter((r) => r.duplicate).length;
        console.log(
          `${results.length - duplicates} task(s) stored, ${duplicates} duplicate(s), in ${redactUrl(store.location)}`,
        );
      } else {
        for (const r of results) console.log(r.duplicate ? `${r.id} (duplicate, ${r.status})` : r.id);
      }
    } finally {
      await store.close();
      await objects.dispose();
    }
  },
};
