import { describeError, failAsUsageError, loadDotEnv } from "taskq/app";
import yargs from "yargs";
import { breakerCommand } from "./commands/breaker.js";
import { cancelCommand } from "./commands/cancel.js";
import { dashboardCommand } from "./commands/dashboard.js";
import { dlqCommand } from "./commands/dlq.js";
import { flowCommand } from "./commands/flow.js";
import { generateCommand } from "./commands/generate.js";
import { kindsCommand } from "./commands/kinds.js";
import { limitsCommand } from "./commands/limits.js";
import { listCommand } from "./commands/list.js";
import { monitorCommand } from "./commands/monitor.js";
import { pruneCommand } from "./commands/prune.js";
import { runCommand } from "./commands/run.js";
import { scheduleCommand } from "./commands/schedule.js";
import { serveCommand } from "./commands/serve.js";
import { statusCommand } from "./commands/status.js";
import { submitCommand } from "./commands/submit.js";

declare const __VERSION__: string | undefined;

/**
 * Runs the `taskq` command line. Errors become one line on stderr (a stack trace only with
 * LOG_LEVEL=debug or trace) and an exit code: 2 for usage errors, 1 for failed runs.
 */
export async function main(args: readonly string[]): Promise<number> {
  const debug = /^(debug|trace)$/i.test(process.env["LOG_LEVEL"] ?? "");
  const report = (error: unknown): number => {
    const { exitCode, message } = describeError(error);
    process.stderr.write(`taskq: ${message}\n`);
    if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return exitCode;
  };
  try {
    loadDotEnv();
    const parser = yargs([...args])
      .scriptName("taskq")
      .usage(
        "$0 <command> [options]\n\nA durable task queue on SQLite or PostgreSQL: submit tasks, run them on threads in one process (run) or in worker processes (serve), with idempotency keys, retries, dead letters, schedules and metrics.",
      )
      .command(generateCommand)
      .command(runCommand)
      .command(submitCommand)
      .command(flowCommand)
      .command(serveCommand)
      .command(monitorCommand)
      .command(dashboardCommand)
      .command(statusCommand)
      .command(listCommand)
      .command(cancelCommand)
      .command(scheduleCommand)
      .command(limitsCommand)
      .command(kindsCommand)
      .command(breakerCommand)
      .command(dlqCommand)
      .command(pruneCommand)
      .demandCommand(1, "give a command (see taskq --help)")
      .strict()
      .recommendCommands()
      .version(typeof __VERSION__ === "string" ? __VERSION__ : "0.1.0")
      .help()
      .alias("h", "help")
      .wrap(Math.min(110, process.stdout.columns || 110))
      .epilogue("Settings come from flags, then the environment, then .env (see .env.example).")
      .exitProcess(false)
      .fail(failAsUsageError);
    await parser.parseAsync();
    return Number(process.exitCode ?? 0);
  } catch (error) {
    return report(error);
  }
}
