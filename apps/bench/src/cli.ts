// `taskq-bench`: one yargs command per mode, each in src/modes/ (as apps/cli keeps one file per
// command in src/commands/): the default mode (compare, baseline or optimized), scale,
// front-door, isolation, drain, history, writes and micro.
import { describeError, failAsUsageError, loadDotEnv } from "taskq/app";
import yargs from "yargs";
import { compareMode } from "./modes/compare.js";
import { drainMode } from "./modes/drain.js";
import { frontDoorMode } from "./modes/front-door.js";
import { historyMode } from "./modes/history.js";
import { isolationMode } from "./modes/isolation.js";
import { microMode } from "./modes/micro.js";
import { scaleMode } from "./modes/scale.js";
import type { Outcome } from "./modes/shared.js";
import { writesMode } from "./modes/writes.js";
import { runOptimizedChild } from "./run-child.js";

/** Runs `taskq-bench`; returns the exit code (1 when --check finds a missed target). */
export async function main(args: readonly string[]): Promise<number> {
  try {
    loadDotEnv();
    if (args[0] === "__run-optimized") {
      await runOptimizedChild(String(args[1]));
      return 0;
    }
    const outcome: Outcome = { exitCode: 0 };
    await yargs([...args])
      .scriptName("taskq-bench")
      .command(compareMode(outcome))
      .command(scaleMode)
      .command(frontDoorMode(outcome))
      .command(isolationMode)
      .command(drainMode)
      .command(historyMode(outcome))
      .command(writesMode)
      .command(microMode)
      .strict()
      .help()
      .exitProcess(false)
      .fail(failAsUsageError)
      .parseAsync();
    return outcome.exitCode;
  } catch (error) {
    const { exitCode, message } = describeError(error);
    process.stderr.write(`taskq-bench: ${message}\n`);
    return exitCode;
  }
}
