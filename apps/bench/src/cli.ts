import { availableParallelism } from "node:os";
import {
  CliError,
  describeError,
  envDefault,
  failAsUsageError,
  integerAtLeast,
  loadDotEnv,
  numberBetween,
} from "taskq/app";
import yargs from "yargs";
import { DRAIN_SYSTEMS, type DrainSystem, formatDrain, runDrain, writeDrain } from "./drain.js";
import { formatFrontDoor, runFrontDoor, writeFrontDoor } from "./front-door.js";
import { formatViolation } from "./history/model.js";
import { runHistory } from "./history/run.js";
import { FAULTS, type FaultKind, faultsFor } from "./history/workload.js";
import { runMicro } from "./micro.js";
import { type BenchOptions, runBenchmark } from "./orchestrate.js";
import { PROFILES } from "./profiles.js";
import { writeReports } from "./report-files.js";
import { formatTable } from "./report-table.js";
import { runOptimizedChild } from "./run-child.js";
import { formatScale, runScale, writeScale } from "./scale.js";

/** A yargs coercer for a comma-separated list of positive integers; its error names the flag. */
function integerList(flag: string) {
  return (value: unknown): number[] => {
    const list = String(value)
      .split(",")
      .map((v) => Number(v.trim()));
    if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new CliError(
        `--${flag} must be a comma-separated list of positive integers, got ${JSON.stringify(value)}`,
        2,
      );
    }
    return list;
  };
}

/** A yargs coercer for `--systems`: drain systems, comma-separated; its error names the flag. */
function systemList(value: unknown): DrainSystem[] {
  const list = String(value)
    .split(",")
    .map((v) => v.trim());
  const bad = list.find((s) => !(s in DRAIN_SYSTEMS));
  if (bad !== undefined || list.length === 0)
    throw new CliError(
      `--systems takes ${Object.keys(DRAIN_SYSTEMS).join(", ")}, comma-separated; got ${JSON.stringify(bad ?? value)}`,
      2,
    );
  return list as DrainSystem[];
}

/** A yargs coercer for `--faults`: fault kinds, comma-separated; its error names the flag. */
function faultList(value: unknown): FaultKind[] {
  const list = String(value)
    .split(",")
    .map((v) => v.trim());
  const bad = list.find((f) => !(FAULTS as readonly string[]).includes(f));
  if (bad !== undefined)
    throw new CliError(`--faults takes ${FAULTS.join(", ")}, comma-separated; got ${JSON.stringify(bad)}`, 2);
  return list as FaultKind[];
}

/** A yargs coercer for a JSON object; its error names the flag. */
function jsonObject(flag: string) {
  return (value: unknown): Record<string, unknown> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(value));
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
      throw new CliError(`--${flag} must be a JSON object, got ${JSON.stringify(value)}`, 2);
    return parsed as Record<string, unknown>;
  };
}

/** Runs `taskq-bench`; returns the exit code (1 when --check finds a missed target). */
export async function main(args: readonly string[]): Promise<number> {
  try {
    loadDotEnv();
    if (args[0] === "__run-optimized") {
      await runOptimizedChild(String(args[1]));
      return 0;
    }
    let exitCode = 0;
    await yargs([...args])
      .scriptName("taskq-bench")
      .command(
        "$0",
        "Run the baseline and the optimized system on the same workload and compare them",
        (y) =>
          y
            .option("mode", {
              choices: ["compare", "baseline", "optimized"] as const,
              default: "compare" as const,
            })
            .option("profile", {
              choices: ["io", "cpu", "overhead"] as const,
              default: "io" as const,
              describe: "workload profile",
            })
            .option("tasks", {
              type: "number",
              coerce: integerAtLeast("tasks", 1),
              describe: "tasks per optimized run (default: the profile's, runs of 5 s or more)",
            })
            .option("baseline-tasks", {
              type: "number",
              coerce: integerAtLeast("baseline-tasks", 1),
              describe: "tasks per baseline run (default: the profile's, or --tasks when fewer)",
            })
            .option("warmup", {
              type: "number",
              coerce: integerAtLeast("warmup", 0),
              describe:
                "tasks each optimized run puts through its whole path before its clock starts (default: a tenth of --tasks)",
            })
            .option("clients", {
              type: "string",
              default: "50,100",
              coerce: integerList("clients"),
              describe: "concurrent clients, a list: one run per value",
            })
            .option("threads", {
              type: "number",
              default: availableParallelism(),
              coerce: integerAtLeast("threads", 1),
              describe: "worker threads",
            })
            .option("concurrency", {
              type: "number",
              coerce: integerAtLeast("concurrency", 1),
              describe: "attempts one thread runs at once (default: enough slots for the clients)",
            })
            .option("queue-size", {
              type: "number",
              default: envDefault("queueSize"),
              coerce: integerAtLeast("queue-size", 1),
            })
            .option("on-full", { choices: ["block", "reject"] as const, default: "block" as const })
            .option("error-rate", {
              type: "number",
              default: 0,
              coerce: numberBetween("error-rate", 0, 1),
              describe: "injected transient error probability",
            })
            .option("repeat", {
              type: "number",
              default: 3,
              coerce: integerAtLeast("repeat", 1),
              describe: "runs per setting; the median is reported",
            })
            .option("seed", { type: "number", default: 1 })
            .option("out", {
              type: "string",
              default: "benchmark_results",
              describe: "where the JSON, CSV and HTML go",
            })
            .option("store", {
              choices: ["sqlite", "postgres"] as const,
              default: "sqlite" as const,
              describe: "the optimized system's task store (a new file or database per run)",
            })
            .option("pg-url", {
              type: "string",
              describe:
                "PostgreSQL server for --store postgres (a role that may CREATE DATABASE); default: a throwaway one",
            })
            .option("check", { type: "boolean", default: false, describe: "exit 1 when a target is missed" })
            .option("quiet", { type: "boolean", default: false, describe: "no progress lines" })
            .example("taskq-bench --mode compare --profile io --clients 100", "the seed's comparison")
            .example("taskq-bench --profile overhead --mode optimized --check", "the queue's own cost")
            .example("taskq-bench micro", "component micro-benchmarks"),
        async (argv) => {
          const optimizedTasks = argv.tasks ?? PROFILES[argv.profile].defaultTasks.optimized;
          const options: BenchOptions = {
            mode: argv.mode,
            profile: argv.profile,
            tasks: optimizedTasks,
            baselineTasks:
              argv["baseline-tasks"] ??
              Math.min(argv.tasks ?? Number.POSITIVE_INFINITY, PROFILES[argv.profile].defaultTasks.baseline),
            warmup: argv.warmup ?? Math.floor(optimizedTasks / 10),
            clients: argv.clients,
            threads: argv.threads,
            ...(argv.concurrency === undefined ? {} : { concurrency: argv.concurrency }),
            queueSize: Number(argv["queue-size"]),
            onFull: argv["on-full"],
            errorRate: argv["error-rate"],
            repeat: argv.repeat,
            seed: argv.seed,
            store: argv.store,
            ...(argv["pg-url"] === undefined ? {} : { pgUrl: argv["pg-url"] }),
          };
          const result = await runBenchmark(
            options,
            argv.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
          );
          console.log(formatTable(result));
          const files = await writeReports(result, argv.out);
          console.log(`\nwrote ${files.join(", ")}`);
          if (argv.check && result.checks.some((c) => !c.pass)) exitCode = 1;
        },
      )
      .command(
        "scale",
        "The optimized system with 1, 2, 4... manager processes on one store (PostgreSQL by default)",
        (y) =>
          y
            .option("profile", { choices: ["io", "cpu", "overhead"] as const, default: "overhead" as const })
            .option("tasks", {
              type: "number",
              coerce: integerAtLeast("tasks", 1),
              describe: "tasks per run",
            })
            .option("clients", { type: "number", default: 100, coerce: integerAtLeast("clients", 1) })
            .option("managers", {
              type: "string",
              default: "1,2,4",
              coerce: integerList("managers"),
              describe: "manager process counts, a list",
            })
            .option("threads", {
              type: "number",
              default: availableParallelism(),
              coerce: integerAtLeast("threads", 1),
              describe: "worker threads per manager",
            })
            .option("repeat", { type: "number", default: 3, coerce: integerAtLeast("repeat", 1) })
            .option("store", { choices: ["sqlite", "postgres"] as const, default: "postgres" as const })
            .option("pg-url", { type: "string", describe: "PostgreSQL server (default: a throwaway one)" })
            .option("seed", { type: "number", default: 1 })
            .option("out", { type: "string", default: "benchmark_results" })
            .option("quiet", { type: "boolean", default: false })
            .example("taskq-bench scale --profile overhead --managers 1,2,4", "the scaling table"),
        async (argv) => {
          const options = {
            profile: argv.profile,
            tasks: argv.tasks ?? PROFILES[argv.profile].defaultTasks.optimized,
            clients: argv.clients,
            managers: argv.managers,
            threads: argv.threads,
            queueSize: Number(envDefault("queueSize")),
            onFull: "block" as const,
            errorRate: 0,
            repeat: argv.repeat,
            seed: argv.seed,
            store: argv.store,
            ...(argv["pg-url"] === undefined ? {} : { pgUrl: argv["pg-url"] }),
          };
          const result = await runScale(
            options,
            argv.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
          );
          console.log(formatScale(result, options));
          console.log(`\nwrote ${await writeScale(result, argv.out)}`);
        },
      )
      .command(
        "front-door",
        "The overhead profile through createQueue against the hand-wired runtime (the front door's own cost)",
        (y) =>
          y
            .option("profile", {
              choices: ["overhead", "io", "cpu"] as const,
              default: "overhead" as const,
              describe:
                "no-op tasks, or the io or cpu profile's (the built-in types run as a handler module)",
            })
            .option("tasks", {
              type: "number",
              coerce: integerAtLeast("tasks", 1),
              describe:
                "tasks per run (default: 100,000 no-op tasks, runs of several seconds past start-up; the profile's otherwise)",
            })
            .option("clients", { type: "number", default: 100, coerce: integerAtLeast("clients", 1) })
            .option("threads", {
              type: "number",
              default: availableParallelism(),
              coerce: integerAtLeast("threads", 1),
            })
            .option("repeat", { type: "number", default: 5, coerce: integerAtLeast("repeat", 1) })
            .option("seed", { type: "number", default: 1 })
            .option("out", { type: "string", default: "benchmark_results" })
            .option("keys", {
              choices: ["pool", "hash"] as const,
              default: "pool" as const,
              describe:
                "createQueue's keys: the pool's own (the same work) or its default, a hash of the payload",
            })
            .option("against", {
              choices: ["handler", "builtin"] as const,
              default: "handler" as const,
              describe:
                "the hand-wired side: the same no-op handler module (the front door alone) or the built-in no-op task type",
            })
            .option("check", {
              type: "boolean",
              default: false,
              describe: "exit 1 when createQueue is more than 5% slower",
            })
            .option("quiet", { type: "boolean", default: false }),
        async (argv) => {
          const result = await runFrontDoor(
            {
              profile: argv.profile,
              tasks:
                argv.tasks ??
                (argv.profile === "overhead" ? 100_000 : PROFILES[argv.profile].defaultTasks.optimized),
              clients: argv.clients,
              threads: argv.threads,
              repeat: argv.repeat,
              seed: argv.seed,
              queueSize: Number(envDefault("queueSize")),
              keys: argv.keys,
              against: argv.against,
            },
            argv.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
          );
          console.log(formatFrontDoor(result));
          console.log(`\nwrote ${await writeFrontDoor(result, argv.out)}`);
          if (argv.check && !result.pass) exitCode = 1;
        },
      )
      .command(
        "drain",
        "Drain a backlog on PostgreSQL: tasks stored first (not timed), then worker processes timed until none is left",
        (y) =>
          y
            .option("tasks", {
              type: "number",
              default: 100_000,
              coerce: integerAtLeast("tasks", 1),
              describe: "tasks in the backlog",
            })
            .option("rounds", { type: "number", default: 3, coerce: integerAtLeast("rounds", 1) })
            .option("systems", {
              type: "string",
              default: "taskq,taskq-x2,graphile-worker,graphile-worker-x2",
              coerce: systemList,
              describe: `alternated round by round, of ${Object.keys(DRAIN_SYSTEMS).join(", ")}`,
            })
            .option("pg-url", { type: "string", describe: "PostgreSQL server (default: a throwaway one)" })
            .option("worker-options", {
              type: "string",
              coerce: jsonObject("worker-options"),
              describe: "createWorker options of the taskq workers, as JSON: '{\"threads\":0}'",
            })
            .option("a-worker", {
              type: "string",
              describe:
                "another build's apps/bench/dist/drain-worker.js, run as taskq-a (an A/B in one series)",
            })
            .option("out", { type: "string", default: "benchmark_results" })
            .option("quiet", { type: "boolean", default: false })
            .example("taskq-bench drain --systems taskq,graphile-worker", "taskq beside graphile-worker"),
        async (argv) => {
          const result = await runDrain(
            {
              tasks: argv.tasks,
              rounds: argv.rounds,
              systems: argv.systems,
              ...(argv["pg-url"] === undefined ? {} : { pgUrl: argv["pg-url"] }),
              ...(argv["worker-options"] === undefined ? {} : { workerOptions: argv["worker-options"] }),
              ...(argv["a-worker"] === undefined ? {} : { aWorker: argv["a-worker"] }),
            },
            argv.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
          );
          console.log(formatDrain(result, argv.rounds));
          console.log(`\nwrote ${await writeDrain(result, argv.out)}`);
        },
      )
      .command(
        "history",
        "A producer and worker processes under seeded faults, then a check of every promise against the history",
        (y) =>
          y
            .option("store", { choices: ["sqlite", "postgres"] as const, default: "sqlite" as const })
            .option("url", {
              type: "string",
              describe:
                "PostgreSQL server (a role that may CREATE DATABASE); default: a throwaway one (needed for pg-restart)",
            })
            .option("seconds", { type: "number", default: 30, coerce: integerAtLeast("seconds", 5) })
            .option("seed", { type: "number", default: 1, coerce: integerAtLeast("seed", 0) })
            .option("workers", {
              type: "number",
              coerce: integerAtLeast("workers", 1),
              describe: "worker processes (default: 3 on PostgreSQL; SQLite: 1, one machine)",
            })
            .option("faults", {
              type: "string",
              coerce: faultList,
              describe: `of ${FAULTS.join(", ")} (default: every one that applies to the store)`,
            })
            .option("out", { type: "string", default: "benchmark_results/history" })
            .option("quiet", { type: "boolean", default: false })
            .example(
              "taskq-bench history --store postgres --seconds 60 --seed 7",
              "three workers, every fault",
            ),
        async (argv) => {
          if (argv.store === "sqlite" && argv.workers !== undefined && argv.workers !== 1)
            throw new CliError(
              "--workers: SQLite is one machine, so one worker process (and the producer)",
              2,
            );
          if (argv.url !== undefined && argv.store !== "postgres")
            throw new CliError("--url needs --store postgres", 2);
          const applicable = faultsFor(argv.store, argv.url === undefined);
          const bad = argv.faults?.find((f) => !applicable.includes(f));
          if (bad !== undefined)
            throw new CliError(
              `--faults: ${bad} does not apply here (it applies: ${applicable.join(", ")})`,
              2,
            );
          const report = await runHistory(
            {
              store: argv.store,
              ...(argv.url === undefined ? {} : { url: argv.url }),
              seconds: argv.seconds,
              seed: argv.seed,
              workers: argv.workers ?? (argv.store === "sqlite" ? 1 : 3),
              ...(argv.faults === undefined ? {} : { faults: argv.faults }),
              out: argv.out,
            },
            argv.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
          );
          for (const violation of report.violations) console.log(formatViolation(violation));
          const injected = Object.entries(report.injected)
            .map(([k, n]) => `${k} ${n}`)
            .join(", ");
          console.log(
            `${report.tasks} tasks, ${report.attempts} attempts, faults: ${injected || "none"}; drained in ${report.drainedInMs} ms; ${report.violations.length} violation(s); wrote ${argv.out}/report.json`,
          );
          if (report.violations.length > 0) exitCode = 1;
        },
      )
      .command(
        "micro",
        "Micro-benchmarks of the components, in operations per second",
        (y) => y.option("scale", { type: "number", default: 1, describe: "shrink (or grow) every loop" }),
        async (argv) => {
          for (const r of await runMicro(argv.scale)) {
            console.log(
              `${r.name.padEnd(52)} ${Math.round(r.opsPerSecond).toLocaleString("en-US").padStart(12)} ops/s`,
            );
          }
          console.log(`node ${process.version}, ${availableParallelism()} cores`);
        },
      )
      .strict()
      .help()
      .exitProcess(false)
      .fail(failAsUsageError)
      .parseAsync();
    return exitCode;
  } catch (error) {
    const { exitCode, message } = describeError(error);
    process.stderr.write(`taskq-bench: ${message}\n`);
    return exitCode;
  }
}
