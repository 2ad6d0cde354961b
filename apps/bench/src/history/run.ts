// `taskq-bench history`: a producer and worker processes on one store, faults at seeded times,
// then a drain, the store's final state, and the checker. Files in --out: producer.jsonl (every
// call and its answer), worker-<pid>.jsonl (every attempt's start and finish, every hook),
// fleet.jsonl (spawns, exits, faults), final.json (the store's tasks), report.json.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Client, connect } from "taskq";
import { everyTask } from "taskq/app";
import { checkHistory } from "./checker.js";
import { faultPlan, injectFaults } from "./faults.js";
import { Fleet } from "./fleet.js";
import type { AttemptEvent, FinalTask, FleetEntry, ProducerEntry, Violation } from "./model.js";
import { parseLines } from "./model.js";
import { hash32, rng } from "./prng.js";
import { sleep } from "./record.js";
import { type FaultKind, faultsFor, WORKLOAD } from "./workload.js";

export interface HistoryOptions {
  readonly store: "sqlite" | "postgres";
  /** A PostgreSQL server to use (a role that may CREATE DATABASE); default: a throwaway one. */
  readonly url?: string;
  readonly seconds: number;
  readonly seed: number;
  /** Worker processes (SQLite: 1, one machine). */
  readonly workers: number;
  /** The faults to inject; default: every one that applies to the store. */
  readonly faults?: readonly FaultKind[];
  readonly out: string;
  /** How long the fleet may take to finish every task after the faults, ms. */
  readonly drainMs?: number;
}

export interface HistoryReport {
  readonly store: "sqlite" | "postgres";
  readonly seed: number;
  readonly seconds: number;
  readonly workers: number;
  /** Faults injected, by kind. */
  readonly injected: Readonly<Record<string, number>>;
  /** Worker and producer exits the run did not cause. */
  readonly crashes: number;
  readonly tasks: number;
  readonly attempts: number;
  readonly drainedInMs: number;
  readonly violations: readonly Violation[];
}

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const serverScript = new URL("../../../scripts/postgres-server.mjs", import.meta.url);

interface StoreSetup {
  readonly location: string;
  readonly pgCtl?: (args: string[]) => unknown;
  readonly dispose: () => Promise<void>;
}

async function openStore(options: HistoryOptions): Promise<StoreSetup> {
  if (options.store === "sqlite") return { location: join(options.out, "store.db"), dispose: async () => {} };
  if (options.url !== undefined) {
    // a database of its own on the user's server: no restart there
    const { openBenchDatabases } = await import("../pg-databases.js");
    const databases = await openBenchDatabases(options.url);
    return { location: await databases.create(), dispose: () => databases.dispose() };
  }
  const { startPostgres } = (await import(
    serverScript.href
  )) as typeof import("../../../../scripts/postgres-server.mjs");
  // durable: an immediate restart must not lose a commit the server acknowledged
  const server = await startPostgres({ durable: true });
  return {
    location: server.url,
    pgCtl: (args) => server.pgCtl(args),
    dispose: async () => server.stop(),
  };
}

/**
 * Reads every task, in creation order (everyTask: listTasks pages of 500); the server may be
 * restarting, so a failed read is tried again from the start.
 */
/**
 * On PostgreSQL, the state tables (task_ready, task_leases, task_done) agree with every task's
 * status at the end, whatever the faults did: one violation per task that disagrees.
 */
async function stateTableViolations(client: Client): Promise<Violation[]> {
  const check = (client.store as { stateMismatches?: () => Promise<string[]> }).stateMismatches;
  if (!check) return [];
  return (await check.call(client.store)).map((detail) => ({
    promise: "state tables agree with statuses",
    detail,
  }));
}

async function readAll(client: Client): Promise<FinalTask[]> {
  for (let i = 0; ; i++) {
    try {
      const records = await everyTask(client.store);
      const kept = new Map<number, number>();
      for (const r of records) kept.set(r.seq, (await client.store.attempts(r.seq)).length);
      return records.map((r) => ({
        seq: r.seq,
        id: r.id,
        kind: r.kind,
        key: r.idempotencyKey,
        status: r.status,
        attempts: r.attempts,
        maxAttempts: r.maxAttempts,
        result: r.result === null ? null : JSON.parse(r.result),
        errorClass: r.errorClass,
        priority: r.priority,
        startedAt: r.startedAt,
        keptAttempts: kept.get(r.seq) ?? 0,
      }));
    } catch (error) {
      if (i >= 20) throw error;
      await sleep(250);
    }
  }
}

function readHistory(out: string): AttemptEvent[] {
  return readdirSync(out)
    .filter((f) => /^worker-\d+\.jsonl$/.test(f))
    .flatMap((f) => parseLines<AttemptEvent>(readFileSync(join(out, f), "utf8")));
}

function readLog<T>(file: string): T[] {
  return existsSync(file) ? parseLines<T>(readFileSync(file, "utf8")) : [];
}

export async function runHistory(
  options: HistoryOptions,
  log: (line: string) => void = () => undefined,
): Promise<HistoryReport> {
  rmSync(options.out, { recursive: true, force: true });
  mkdirSync(options.out, { recursive: true });
  const setup = await openStore(options);
  const faults = options.faults ?? faultsFor(options.store, setup.pgCtl !== undefined);
  const draw = rng(hash32(`faults:${options.seed}`));
  const fleet = new Fleet(options.out, setup.location);
  // the store made (migrated) once, before any other process opens it
  const client = await connect({ store: setup.location });
  try {
    const deadline = Date.now() + options.seconds * 1000;
    let gen = 0;
    await fleet.startProducer(gen, options.seed, deadline);
    for (let i = 0; i < options.workers; i++) await fleet.startWorker();
    log(`history: ${options.store}, ${options.workers} worker(s), faults ${faults.join(", ")}`);
    const plan = faultPlan(faults, draw, Math.max(faults.length, options.seconds));
    await injectFaults(
      {
        fleet,
        draw,
        ...(options.store === "postgres" ? { pgUrl: setup.location } : {}),
        ...(setup.pgCtl ? { pgCtl: setup.pgCtl } : {}),
        restartProducer: async () => {
          if (Date.now() < deadline - 1000) await fleet.startProducer(++gen, options.seed, deadline);
        },
      },
      plan,
      deadline,
      faults.length,
    );
    // the faults are over; the producer stops at the deadline (and sends its last calls)
    if (fleet.producer) await fleet.producer.exited;
    for (const m of fleet.workers) m.child.kill("SIGCONT");
    await client.unschedule(WORKLOAD.cron.name).catch(() => false);
    const drainStart = Date.now();
    const drainEnd = drainStart + (options.drainMs ?? 60_000);
    let tasks = await readAll(client);
    while (tasks.some((t) => !TERMINAL.has(t.status)) && Date.now() < drainEnd) {
      await client.store.waitForChange(250);
      tasks = await readAll(client);
    }
    const drainedInMs = Date.now() - drainStart;
    log(`history: drained in ${drainedInMs} ms`);
    await fleet.stopAll(15_000);
    tasks = await readAll(client);
    writeFileSync(join(options.out, "final.json"), JSON.stringify(tasks));
    const events = readHistory(options.out);
    const producer = readLog<ProducerEntry>(join(options.out, "producer.jsonl"));
    const fleetLog = readLog<FleetEntry>(join(options.out, "fleet.jsonl"));
    const violations = [
      ...checkHistory({ events, producer, final: tasks, fleet: fleetLog, config: WORKLOAD }),
      ...(await stateTableViolations(client)),
    ];
    const injected: Record<string, number> = {};
    for (const e of fleetLog)
      if (e.ev !== "spawn" && e.ev !== "exit") injected[e.ev] = (injected[e.ev] ?? 0) + 1;
    const report: HistoryReport = {
      store: options.store,
      seed: options.seed,
      seconds: options.seconds,
      workers: options.workers,
      injected,
      crashes: fleetLog.filter((e) => e.ev === "exit" && !e.expected).length,
      tasks: tasks.length,
      attempts: events.filter((e) => e.ev === "start").length,
      drainedInMs,
      violations,
    };
    writeFileSync(join(options.out, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
    return report;
  } finally {
    fleet.ending = true;
    await fleet.stopAll(5000);
    await client.close().catch(() => undefined);
    await setup.dispose();
  }
}
