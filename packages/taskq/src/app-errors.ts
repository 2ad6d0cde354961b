/** An error the CLI reports in one line: exit code 2 for usage, 1 for a run that failed. */
export class CliError extends Error {
  override readonly name = "CliError";
  /** `ERR_USAGE` for what the user gave (exit 2), `ERR_RUN_FAILED` for a run that could not proceed (exit 1). */
  readonly code: "ERR_USAGE" | "ERR_RUN_FAILED";
  readonly exitCode: number;
  constructor(message: string, exitCode: 1 | 2 = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
    this.code = exitCode === 2 ? "ERR_USAGE" : "ERR_RUN_FAILED";
  }
}

/** Errors that come from what the user gave (bad files, bad tasks, bad values): exit code 2. */
const USAGE_ERRORS = new Set(["TaskFileError", "ValidationError", "ConfigError", "PayloadError"]);

/** The exit code and one-line message for any error. */
export function describeError(error: unknown): { exitCode: number; message: string } {
  if (error instanceof CliError) return { exitCode: error.exitCode, message: error.message };
  const e = error as { name?: string; message?: string; code?: string };
  if (e?.name && USAGE_ERRORS.has(e.name)) return { exitCode: 2, message: e.message ?? String(error) };
  // a store location or value that cannot be right (an unparsable URL, say): a usage error too
  if (e?.code === "ERR_INVALID_INPUT") return { exitCode: 2, message: e.message ?? String(error) };
  if (error instanceof RangeError || error instanceof TypeError) {
    return { exitCode: 2, message: (error as Error).message };
  }
  return { exitCode: 1, message: e?.message ?? String(error) };
}

/**
 * A yargs `fail` handler: yargs' own errors (unknown flags, failed coercions and checks) become
 * one-line usage errors (exit 2); an error thrown by a command's handler passes through as it is.
 */
export function failAsUsageError(message: string | undefined, error: Error | undefined): never {
  const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " ");
  if (error === undefined || error === null) throw new CliError(oneLine(message ?? "invalid arguments"), 2);
  if (error instanceof CliError || error.name !== "YError") throw error;
  throw new CliError(oneLine(error.message), 2, { cause: error });
}
