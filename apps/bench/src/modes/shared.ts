// What the modes of `taskq-bench` share: how a mode tells `main` its exit code, progress lines,
// and the coercer for a list of counts (`--clients 50,100`, `--workers 1,2,4`).
import { CliError } from "taskq/app";
import type { Argv, CommandModule } from "yargs";

/** A mode's yargs command: its options are what its builder declares. */
export type Mode<B extends (y: Argv) => Argv<unknown>> = CommandModule<
  object,
  B extends (y: Argv) => Argv<infer U> ? U : never
>;

/** What a mode's run tells `main`: the exit code, 1 when the run found what `--check` looks for. */
export interface Outcome {
  exitCode: number;
}

/** The progress lines on stderr, or none (`--quiet`). */
export function progress(quiet: boolean): ((line: string) => void) | undefined {
  return quiet ? undefined : (line) => process.stderr.write(`${line}\n`);
}

/** A yargs coercer for a comma-separated list of positive integers; its error names the flag. */
export function integerList(flag: string) {
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
