import { appendFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { csvHeader, csvRow, toReport } from "@taskq/metrics";
import {
  ensureImages,
  generateTasks,
  loadPayloadFile,
  loadTaskFile,
  parseTask,
  type TaskFile,
  toPrepared,
} from "@taskq/processor";
import { runClients } from "@taskq/queue";
import { CliError, envDefault, integerAtLeast, integerRule, openRuntime } from "taskq/app";
import type { Argv } from "yargs";
import { type RuntimeArgs, runtimeOptions, toRuntimeConfig } from "../options.js";
import { startProgress } from "../progress.js";
import { handleSignals } from "../signals.js";
import { formatSummary } from "../summary.js";

interface RunArgs extends RuntimeArgs {
  tasks?: string;
  benchmark: boolean;
  clients: number;
  "metrics-out"?: string;
  csv?: string;
  json: boolean;
  "shutdown-timeout-ms": number;
}

export const runCommand = {
  command: "run",
  describe: "Process a task file through the whole chain with N concurrent clients",
  builder: (y: Argv) =>
    runtimeOptions(y)
      .option("tasks", { type: "string", describe: "task file (JSON array or JSON Lines)" })
      .option("benchmark", {
        type: "boolean",
        default: false,
        describe:
          "run the default generated workload (BENCHMARK_TASK_COUNT tasks, fresh store) when no --tasks",
      })
      .option("clients", {
        requiresArg: true,
        default: envDefault("clients", integerRule(1)) as number,
        coerce: integerAtLeast("clients", 1),
        describe: "concurrent closed-loop clients (CLIENTS)",
      })
      .option("metrics-out", { type: "string", describe: "write the metrics JSON here" })
      .option("csv", { type: "string", describe: "append one CSV row of metrics here (header when new)" })
      .option("json", {
        type: "boolean",
        default: false,
        describe: "print the metrics JSON instead of the summary table",
      })
      .example("taskq run --tasks tasks.json --threads 8 --clients 100", "process a task file")
      .example(
        "taskq run --benchmark --metrics-out metrics.json",
        "the default workload, with the metrics JSON",
      )
      .example("taskq run --tasks tasks.json --queue-size 10 --on-full reject", "backpressure by rejection")
      .example(
        "taskq run --handler ./my-handler.js --tasks payloads.jsonl",
        "your own handler over a file of payloads",
      ),
  handler: async (argv: RunArgs) => {
    if ((argv.handler?.length ?? 0) > 1)
      throw new CliError("run takes one --handler: its payloads are all of its kind (serve takes many)", 2);
    const config = { ...toRuntimeConfig(argv, "run") };
    let file: TaskFile;
    // a handler's payloads are submitted as they are (the orchestrator checks and keys them)
    let payloads: unknown[] | undefined;
    if (argv.handler !== undefined) {
      if (!argv.tasks)
        throw new CliError("--handler needs --tasks FILE: a JSON array or JSON Lines of payloads", 2);
      const loaded = await loadPayloadFile(argv.tasks);
      payloads = loaded.payloads;
      file = { tasks: [], invalid: loaded.invalid };
    } else if (argv.tasks) {
      file = await loadTaskFile(argv.tasks);
    } else if (argv.benchmark) {
      const dir = join(".taskq", `benchmark-${new Date().toISOString().replace(/[:.]/g, "-")}`);
      config.store = join(dir, "tasks.db");
      config.storage = join(dir, "objects");
      const workload = generateTasks({
        count: envDefault("benchmarkTaskCount", integerRule(1)) as number,
        seed: config.seed,
      });
      file = { tasks: workload.tasks.map((t) => parseTask(t)), invalid: [] };
    } else {
      throw new CliError("--tasks FILE is required (or --benchmark for the default generated workload)", 2);
    }
    const runtime = await openRuntime(config);
    const { orchestrator, metrics, store } = runtime;
    if (argv.benchmark && !argv.tasks && runtime.objects) await ensureImages(runtime.objects, file.tasks);
    for (const bad of file.invalid) {
      await store.recordInvalid(bad.id ?? `#${bad.position}`, bad.raw ?? null, {
        errorClass: "validation",
        message: bad.message,
      });
      metrics.recordFailure("validation");
      process.stderr.write(`taskq: skipped ${bad.message} (dead-lettered)\n`);
    }
    const stop = new AbortController();
    const signals = handleSignals(
      () => {
        stop.abort();
        void orchestrator.close({ drain: true, timeoutMs: argv["shutdown-timeout-ms"] });
      },
      () => void orchestrator.close({ drain: false }),
    );
    const progress = startProgress(payloads?.length ?? file.tasks.length, metrics);
    let done = 0;
    try {
      const common = { clients: argv.clients, signal: stop.signal, onSettled: () => progress.tick(++done) };
      if (payloads)
        await runClients({ ...common, source: payloads, submit: (payload) => orchestrator.submit(payload) });
      // validated when the file was loaded: the orchestrator does not validate them again
      else
        await runClients({
          ...common,
          source: file.tasks.map(toPrepared),
          submit: (task) => orchestrator.submitPrepared(task),
        });
    } finally {
      progress.stop();
    }
    await runtime.close({ drain: true, timeoutMs: argv["shutdown-timeout-ms"] });
    signals.dispose();
    const report = toReport(metrics.finish());
    if (argv.json) console.log(JSON.stringify(report, null, 2));
    // a handler over a file of payloads is a run of the user's work, not a benchmark
    else
      console.log(
        formatSummary(
          report,
          argv.handler === undefined ? undefined : `HANDLER RUN: ${argv.handler.join(" ")} on ${argv.tasks}`,
        ),
      );
    if (argv["metrics-out"]) await writeFile(argv["metrics-out"], `${JSON.stringify(report, null, 2)}\n`);
    if (argv.csv) {
      const exists = await stat(argv.csv).then(
        () => true,
        () => false,
      );
      await appendFile(argv.csv, `${exists ? "" : `${csvHeader()}\n`}${csvRow(report)}\n`);
    }
    if (signals.signal) process.exitCode = signals.exitCode;
  },
};
