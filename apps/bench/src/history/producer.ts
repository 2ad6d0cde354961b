// A history run's producer process: connect() and a seeded stream of calls until the run's
// deadline: enqueues of every kind (duplicate keys, delays, run times, priorities), enqueueMany,
// cancels of queued and running tasks, result(id), and on its first start the limits and the
// schedule. Each call is logged before it is made and again with its answer or error, with
// times, so a call cut short by a kill or a server restart is known to be unanswered.
//   node dist/history/producer.js '<json: { store, logFile, gen, seed, deadline, setup }>'
import { appendFileSync } from "node:fs";
import { type Client, connect } from "taskq";
import type { ProducerEntry } from "./model.js";
import { hash32, rng } from "./prng.js";
import { sleep } from "./record.js";
import { CRON_EXPRESSION, type HistoryKind, WORKER_SETTINGS, WORKLOAD } from "./workload.js";

interface ProducerArgs {
  readonly store: string;
  readonly logFile: string;
  readonly gen: number;
  readonly seed: number;
  readonly deadline: number;
  readonly setup: boolean;
}

const args = JSON.parse(process.argv[2] ?? "{}") as ProducerArgs;
const { gen } = args;
const draw = rng(hash32(`producer:${args.seed}:${gen}`));
let n = 0;
const pending = new Set<Promise<unknown>>();
/** Tasks this incarnation enqueued, answered: what duplicates, cancels and results pick from. */
const enqueued: { kind: string; key: string; id: string }[] = [];

function log(entry: Omit<ProducerEntry, "gen">): void {
  appendFileSync(args.logFile, `${JSON.stringify({ gen, ...entry })}\n`);
}

/** Makes one logged call: `call` line, the call, then `answer` (what `answerOf` keeps) or `error`. */
async function logged<T>(
  call: Omit<ProducerEntry, "gen" | "ev" | "n" | "t">,
  run: () => Promise<T>,
  answerOf: (value: T) => unknown = (v) => v,
): Promise<T | undefined> {
  const me = ++n;
  log({ ev: "call", n: me, t: Date.now(), ...call });
  try {
    const value = await run();
    log({ ev: "answer", n: me, t: Date.now(), answer: answerOf(value) });
    return value;
  } catch (error) {
    const e = error as { code?: string; message?: string };
    log({
      ev: "error",
      n: me,
      t: Date.now(),
      message: `${e.code ?? "error"}: ${e.message ?? String(error)}`,
    });
    return undefined;
  }
}

/** Runs `work` in the background; the producer waits for it before it exits. */
function later(ms: number, work: () => Promise<unknown>): void {
  const p = sleep(ms)
    .then(work)
    .finally(() => pending.delete(p));
  pending.add(p);
}

async function enqueueOne(
  client: Client,
  kind: HistoryKind,
  ms: number,
  o: { priority?: number; delayMs?: number; runAt?: number; key?: string; burst?: string } = {},
): Promise<string | undefined> {
  const id = `g${gen}-${n + 1}`;
  const key = o.key ?? `k-${id}`;
  const now = Date.now();
  const notBefore = o.runAt ?? (o.delayMs === undefined ? undefined : now + o.delayMs);
  const answer = await logged(
    {
      op: "enqueue",
      kind,
      ids: [id],
      keys: [key],
      ...(o.priority === undefined ? {} : { priority: o.priority }),
      ...(notBefore === undefined ? {} : { notBefore }),
      ...(o.burst === undefined ? {} : { burst: o.burst }),
    },
    () =>
      client.enqueue(
        kind,
        { ms },
        {
          key,
          id,
          ...(o.priority === undefined ? {} : { priority: o.priority }),
          ...(o.delayMs === undefined ? {} : { delayMs: o.delayMs }),
          ...(o.runAt === undefined ? {} : { runAt: o.runAt }),
        },
      ),
    (a) => [{ id: a.id, duplicate: a.duplicate }],
  );
  if (answer && !answer.duplicate) enqueued.push({ kind, key, id: answer.id });
  return answer?.id;
}

function cancelLater(client: Client, id: string, ms: number): void {
  later(ms, () =>
    logged(
      { op: "cancel", id },
      () => client.cancel(id),
      (info) => ({ status: info.status, attempts: info.attempts }),
    ),
  );
}

/** A burst of the one-slot kind: enqueued one by one, all due at one time in the near future. */
async function priorityBurst(client: Client): Promise<void> {
  const burst = `g${gen}-b${n + 1}`;
  const runAt = Date.now() + 1000;
  for (let i = 0; i < 5; i++) {
    await enqueueOne(client, "prio", 40, { priority: draw.int(-1, 3), runAt, burst });
  }
}

async function step(client: Client): Promise<void> {
  const roll = draw.next();
  const ms = draw.int(20, 200);
  if (roll < 0.18) await enqueueOne(client, "ok", ms, draw.chance(0.3) ? { priority: draw.int(-2, 5) } : {});
  else if (roll < 0.28) await enqueueOne(client, "flaky", ms);
  else if (roll < 0.34) await enqueueOne(client, "permanent", ms);
  else if (roll < 0.39)
    await enqueueOne(
      client,
      "slow",
      draw.int(WORKER_SETTINGS.timeoutMs * 0.4, WORKER_SETTINGS.timeoutMs * 1.6),
    );
  else if (roll < 0.44) {
    const id = await enqueueOne(client, "wait", 0);
    if (id !== undefined && draw.chance(0.7)) cancelLater(client, id, draw.int(100, 900));
  } else if (roll < 0.5) await enqueueOne(client, "ok", ms, { delayMs: draw.int(200, 2500) });
  else if (roll < 0.54) await enqueueOne(client, "ok", ms, { runAt: Date.now() + draw.int(200, 2500) });
  else if (roll < 0.6) {
    const id = await enqueueOne(client, "ok", ms, { delayMs: draw.int(1500, 3000) });
    if (id !== undefined) cancelLater(client, id, draw.int(20, 300));
  } else if (roll < 0.64) {
    const count = draw.int(2, 5);
    const nonce = `g${gen}-m${n + 1}`;
    await logged(
      { op: "enqueueMany", kind: "ok" },
      () =>
        client.enqueueMany(
          "ok",
          Array.from({ length: count }, (_, i) => ({ ms, nonce: `${nonce}-${i}` })),
        ),
      (list) => list.map((a) => ({ id: a.id, duplicate: a.duplicate, key: a.key })),
    );
  } else if (roll < 0.72 && enqueued.length > 0) {
    const earlier = draw.pick(enqueued);
    // a duplicate: the same kind and key, another id asked for; the answer must be the original's
    await enqueueOne(client, earlier.kind as HistoryKind, ms, { key: earlier.key });
  } else if (roll < 0.8) await enqueueOne(client, "limited", draw.int(100, 400));
  else if (roll < 0.88) await enqueueOne(client, "rated", ms);
  else if (roll < 0.93 && enqueued.length > 0) {
    const { id } = draw.pick(enqueued);
    later(0, () => logged({ op: "result", id }, () => client.result(id, { timeoutMs: 5000 })));
  } else if (enqueued.length > 0) cancelLater(client, draw.pick(enqueued).id, 0);
}

async function connectWithRetry(): Promise<Client> {
  for (let i = 0; ; i++) {
    try {
      return await connect({ store: args.store });
    } catch (error) {
      if (i >= 50) throw error; // a server restart takes a second or two, not 10
      await sleep(200);
    }
  }
}

const client = await connectWithRetry();
if (args.setup) {
  for (const [kind, concurrency] of Object.entries(WORKLOAD.concurrency))
    await logged({ op: "setLimits", kind }, () => client.setLimits(kind, { concurrency }));
  for (const [kind, rate] of Object.entries(WORKLOAD.rate))
    await logged({ op: "setLimits", kind }, () => client.setLimits(kind, { rate }));
  await logged(
    { op: "schedule", kind: WORKLOAD.cron.kind },
    () =>
      client.schedule(WORKLOAD.cron.name, {
        cron: CRON_EXPRESSION,
        kind: WORKLOAD.cron.kind,
        payload: { ms: 30 },
      }),
    (s) => s.name,
  );
}
process.send?.({ ready: true });
let nextBurst = Date.now() + 1500;
while (Date.now() < args.deadline) {
  if (Date.now() >= nextBurst) {
    await priorityBurst(client);
    nextBurst = Date.now() + 3500;
  } else await step(client);
  await sleep(draw.int(25, 90));
}
await Promise.allSettled([...pending]);
await client.close();
process.exit(0);
