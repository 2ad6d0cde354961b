/** An error the CLI reports in one line: exit code 2 for usage, 1 for a run that failed. */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly exitCode: number;
  constructor(message: string, exitCode: 1 | 2 = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/** Errors that come from what the user gave (bad files, bad tasks, bad values): exit code 2. */
const USAGE_ERRORS = new Set(["TaskFileError", "ValidationError"]);

/** The exit code and one-line message for any error. */
export function describeError(error: unknown): { exitCode: number; message: string } {
  if (error instanceof CliError) return { exitCode: error.exitCode, message: error.message };
  const e = error as { name?: string; message?: string; code?: string };
  if (e?.name && USAGE_ERRORS.has(e.name)) return { exitCode: 2, message: e.message ?? String(error) };
  if (error instanceof RangeError || error instanceof TypeError) {
    return { exitCode: 2, message: (error as Error).message };
  }
  return { exitCode: 1, message: e?.message ?? String(error) };
}
