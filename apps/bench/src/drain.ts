// `taskq-bench drain`: draining a backlog on PostgreSQL. N no-op tasks are stored first (not
// timed), then worker processes are spawned and timed until the store holds none left to run.
// Alternated system by system, round by round, in one series, each round on a fresh database:
//
//   taskq               one worker process (createWorker: serve's loop, its defaults)
//   taskq-x2            two of them on the same database
//   taskq-a             one worker process of another build (--a-worker): an A/B in one series
//   graphile-worker     one graphile-worker 0.17 process, batched (a localQueue of 500 jobs
//                       fetched per query, completions batched), concurrency 24
//   graphile-worker-x2  two of them
//
// The clock starts when the processes are spawned (their start-up counts, for every system
// alike) and stops when a probe (every PROBE_MS) finds nothing left: taskq's queued or running
// tasks (read on from where the last probe stopped), graphile-worker's jobs table.
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { connect } from "taskq";
import { CliError } from "taskq/app";
import { type MachineFacts, machineFacts } from "./machine.js";
import { childNodeArgs, medianBy } from "./orchestrate.js";
import { openBenchDatabases } from "./pg-databases.js";

/** The systems a drain can run, by name. */
export const DRAIN_SYSTEMS = {
  taskq: { processes: 1, kind: "taskq" },
  "taskq-x2": { processes: 2, kind: "taskq" },
  "taskq-a": { processes: 1, kind: "taskq-a" },
  "graphile-worker": { processes: 1, kind: "graphile-worker" },
  "graphile-worker-x2": { processes: 2, kind: "graphile-worker" },
} as const;

export type DrainSystem = keyof typeof DRAIN_SYSTEMS;

export interface DrainOptions {
  /** Tasks in the backlog. */
  readonly tasks: number;
  /** Rounds: each system once per round, in the order given. */
  readonly rounds: number;
  readonly systems: readonly DrainSystem[];
  /** The PostgreSQL server (a role that may CREATE DATABASE). @default a throwaway durable one */
  readonly pgUrl?: string;
  /** createWorker options for the taskq workers, e.g. `{ threads: 0 }`. @default its defaults */
  readonly workerOptions?: Readonly<Record<string, unknown>>;
  /** Another build's dist/drain-worker.js, for `taskq-a`. */
  readonly aWorker?: string;
}

export interface DrainRow {
  readonly system: DrainSystem;
  /** Tasks per second of each round, in round order. */
  readonly rounds: readonly number[];
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /**
   * CPU time of the worker processes (every thread, user and kernel) per task drained, µs, each
   * round; null where /proc cannot be read (not Linux).
   */
  readonly workerCpuUs: readonly (number | null)[];
  /** Median of workerCpuUs over the rounds that have one; null when none has. */
  readonly medianWorkerCpuUs: number | null;
  /**
   * CPU time of the machine's PostgreSQL processes (the server and its backends, every one named
   * `postgres`) per task drained, µs, each round: the server's time, when it runs here and
   * nothing else uses it; null where /proc cannot be read.
   */
  readonly serverCpuUs: readonly (number | null)[];
  readonly medianServerCpuUs: number | null;
}

export interface DrainResult {
  readonly generated_at: string;
  readonly machine: MachineFacts;
  readonly tasks: number;
  readonly server: string;
  readonly rows: readonly DrainRow[];
}

/** How often the store is asked whether anything is left, ms. */
const PROBE_MS = 20;
/** Tasks stored per enqueue call while filling. */
const FILL_CHUNK = 10_000;

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** Runs every system `rounds` times, alternated, and takes medians. */
export async function runDrain(
  options: DrainOptions,
  log: (line: string) => void = () => undefined,
): Promise<DrainResult> {
  if (options.systems.includes("taskq-a") && options.aWorker === undefined)
    throw new CliError(
      "--systems taskq-a needs --a-worker: another build's apps/bench/dist/drain-worker.js",
      2,
    );
  const databases = await openBenchDatabases(options.pgUrl);
  log(`task store: a new PostgreSQL database per round on ${databases.server}`);
  const runs = new Map<DrainSystem, Drained[]>(options.systems.map((s) => [s, []]));
  try {
    for (let round = 1; round <= options.rounds; round++) {
      for (const system of options.systems) {
        const drained = await drainOnce(system, await databases.create(), options);
        runs.get(system)?.push(drained);
        log(
          `round ${round} ${system}: ${options.tasks} tasks drained at ${Math.round(drained.tps)} tasks/s` +
            (drained.workerCpuUs === null ? "" : `, worker CPU ${drained.workerCpuUs.toFixed(1)} µs/task`) +
            (drained.serverCpuUs === null ? "" : `, server CPU ${drained.serverCpuUs.toFixed(1)} µs/task`),
        );
      }
    }
  } finally {
    await databases.dispose();
  }
  return {
    generated_at: new Date().toISOString(),
    machine: machineFacts(),
    tasks: options.tasks,
    server: databases.server,
    rows: options.systems.map((system) => {
      const all = (runs.get(system) ?? []).map((d) => d.tps);
      const cpu = (runs.get(system) ?? []).map((d) => d.workerCpuUs);
      const server = (runs.get(system) ?? []).map((d) => d.serverCpuUs);
      return {
        system,
        rounds: all,
        median: medianBy(all, (tps) => tps) ?? 0,
        min: Math.min(...all),
        max: Math.max(...all),
        workerCpuUs: cpu,
        medianWorkerCpuUs: medianOf(cpu),
        serverCpuUs: server,
        medianServerCpuUs: medianOf(server),
      };
    }),
  };
}

/** The median of the figures there are; null when none. */
const medianOf = (values: readonly (number | null)[]) =>
  medianBy(
    values.filter((us): us is number => us !== null),
    (us) => us,
  ) ?? null;

/** One round's result: its throughput, and its workers' and the server's CPU time per task. */
interface Drained {
  readonly tps: number;
  readonly workerCpuUs: number | null;
  readonly serverCpuUs: number | null;
}

/**
 * CPU seconds used so far by every process named `postgres` on this machine: a local server, its
 * backends, and (counted in the server's own children's time once they exit) the backends gone
 * meanwhile, whose time would otherwise leave with them. Null where /proc cannot be read.
 */
function serverCpuSeconds(): number | null {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  let total = 0;
  for (const pid of pids) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "postgres") continue;
    } catch {
      continue; // gone meanwhile
    }
    total += cpuSecondsOf(Number(pid), true) ?? 0;
  }
  return total;
}

/**
 * CPU seconds a process has used so far, every thread, user and kernel (/proc/<pid>/stat's utime
 * and stime, in clock ticks: USER_HZ, 100 on Linux), with `reapedChildren` its exited children's
 * too; null where it cannot be read.
 */
function cpuSecondsOf(pid: number | undefined, reapedChildren = false): number | null {
  if (pid === undefined) return null;
  try {
    // the fields after the command name, which is in parentheses and may hold spaces: utime,
    // stime, and the time of the children it has waited for (cutime, cstime)
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    const ticks =
      Number(fields[11]) +
      Number(fields[12]) +
      (reapedChildren ? Number(fields[13]) + Number(fields[14]) : 0);
    return Number.isFinite(ticks) ? ticks / 100 : null;
  } catch {
    return null;
  }
}

/** One round of one system on a fresh database: fill (not timed), then spawn and time. */
async function drainOnce(system: DrainSystem, url: string, options: DrainOptions): Promise<Drained> {
  const { kind, processes } = DRAIN_SYSTEMS[system];
  const left =
    kind === "graphile-worker" ? await fillGraphile(url, options.tasks) : await fillTaskq(url, options.tasks);
  const probe = new pg.Client({ connectionString: url });
  await probe.connect();
  const serverBefore = serverCpuSeconds();
  const started = performance.now();
  const children = Array.from({ length: processes }, () => spawnWorker(kind, url, options));
  try {
    for (;;) {
      if (!(await left(probe))) {
        const seconds = (performance.now() - started) / 1000;
        // read before the processes are told to stop (their shutdown is not the drain's work)
        const cpu = children.map((c) => cpuSecondsOf(c.child.pid));
        const workerCpuUs = cpu.every((x) => x !== null)
          ? (cpu.reduce((sum: number, x) => sum + (x as number), 0) / options.tasks) * 1e6
          : null;
        const serverAfter = serverCpuSeconds();
        const serverCpuUs =
          serverBefore === null || serverAfter === null
            ? null
            : ((serverAfter - serverBefore) / options.tasks) * 1e6;
        return { tps: options.tasks / seconds, workerCpuUs, serverCpuUs };
      }
      const dead = await Promise.race([
        ...children.map((c) => c.exited),
        new Promise<null>((resolve) => setTimeout(resolve, PROBE_MS, null)),
      ]);
      if (dead)
        throw new Error(
          `${system}: a worker exited early (${dead.code}): ${dead.stderr.trim().split("\n").at(-1)}`,
        );
    }
  } finally {
    for (const c of children) c.child.kill("SIGTERM");
    await Promise.all(children.map((c) => c.exited));
    await probe.end();
  }
}

/** Asks the store whether anything is left to run. */
type Probe = (client: pg.Client) => Promise<boolean>;

/**
 * Stores the backlog through taskq's client; returns the probe: is any task queued or running?
 * It reads on from the first unfinished task it saw last (tasks finish about in seq order), so a
 * probe reads the tasks finished since the one before; a whole-table check confirms the end.
 * Asking the whole table every time (`status IN ('queued', 'running')`, a sequential scan past
 * every finished task) cost 7.5-7.9 ms a probe: 2.7-3.2 s of the server's two cores in a 10 s
 * drain, where graphile-worker's probe cost 0.7 ms.
 */
async function fillTaskq(url: string, tasks: number): Promise<Probe> {
  const client = await connect({ store: url });
  try {
    for (let n = 0; n < tasks; n += FILL_CHUNK) await client.enqueueMany("noop", chunk(n, tasks));
  } finally {
    await client.close();
  }
  let from = 0;
  return async (probe) => {
    const { rows } = await probe.query<{ seq: string }>(
      "SELECT seq FROM taskq.tasks WHERE seq >= $1 AND status IN ('queued', 'running') ORDER BY seq LIMIT 1",
      [from],
    );
    if (rows[0]) {
      from = Number(rows[0].seq);
      return true;
    }
    const whole = await probe.query<{ left: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM taskq.tasks WHERE status IN ('queued', 'running')) AS left",
    );
    from = 0;
    return whole.rows[0]?.left === true;
  };
}

/** Stores the backlog through graphile-worker's utils; returns the probe: is any job left? */
async function fillGraphile(url: string, tasks: number): Promise<Probe> {
  const { makeWorkerUtils } = await importGraphile();
  const utils = await makeWorkerUtils({ connectionString: url });
  try {
    await utils.migrate();
    for (let n = 0; n < tasks; n += FILL_CHUNK)
      await utils.addJobs(chunk(n, tasks).map((payload) => ({ identifier: "noop", payload })));
  } finally {
    await utils.release();
  }
  return async (probe) => {
    const { rows } = await probe.query<{ left: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM graphile_worker._private_jobs) AS left",
    );
    return rows[0]?.left === true;
  };
}

async function importGraphile(): Promise<typeof import("graphile-worker")> {
  try {
    return await import("graphile-worker");
  } catch {
    throw new Error(
      "graphile-worker is not installed: it is a devDependency of @taskq/bench, there inside the taskq repository",
    );
  }
}

const chunk = (from: number, total: number) =>
  Array.from({ length: Math.min(FILL_CHUNK, total - from) }, (_, i) => ({ n: from + i }));

interface Worker {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; stderr: string }>;
}

function spawnWorker(
  kind: (typeof DRAIN_SYSTEMS)[DrainSystem]["kind"],
  url: string,
  options: DrainOptions,
): Worker {
  const options_ = JSON.stringify(options.workerOptions ?? {});
  const args =
    kind === "graphile-worker"
      ? [here("./drain-graphile-worker.js"), url, "24"]
      : [kind === "taskq-a" ? (options.aWorker as string) : here("./drain-worker.js"), url, options_];
  const child = spawn(process.execPath, [...childNodeArgs(), ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => {
    stderr += b;
  });
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.once("exit", (code) => resolve({ code, stderr })),
  );
  return { child, exited };
}

const n = (v: number) => Math.round(v).toLocaleString("en-US");

/** The drain table: median [min-max] per system, and the ratios the issue asks about. */
export function formatDrain(result: DrainResult, rounds: number): string {
  const by = new Map(result.rows.map((r) => [r.system, r.median]));
  const ratio = (a: DrainSystem, b: DrainSystem) => {
    const x = by.get(a);
    const y = by.get(b);
    return x && y ? `${(x / y).toFixed(2)}x` : "-";
  };
  return [
    `taskq-bench drain · ${n(result.tasks)} no-op tasks stored first, then drained · ${rounds} rounds alternated, median [min-max]`,
    `machine: ${result.machine.cores} cores, ${result.machine.cpu}, node ${result.machine.node} (the database server shares these cores)`,
    "",
    ...result.rows.map(
      (r) =>
        `${r.system.padEnd(20)} ${`${n(r.median)} [${n(r.min)}-${n(r.max)}]`.padStart(22)} tasks/s` +
        (r.medianWorkerCpuUs === null ? "" : `, worker CPU ${r.medianWorkerCpuUs.toFixed(1)} µs/task`) +
        (r.medianServerCpuUs === null ? "" : `, server CPU ${r.medianServerCpuUs.toFixed(1)} µs/task`),
    ),
    "",
    `taskq / graphile-worker: ${ratio("taskq", "graphile-worker")} · taskq x2 / taskq: ${ratio("taskq-x2", "taskq")} · graphile-worker x2 / graphile-worker: ${ratio("graphile-worker-x2", "graphile-worker")} · taskq-a / taskq: ${ratio("taskq-a", "taskq")}`,
  ].join("\n");
}

export async function writeDrain(result: DrainResult, out: string): Promise<string> {
  await mkdir(out, { recursive: true });
  const file = join(out, "drain.json");
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
