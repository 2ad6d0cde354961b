import { type DestinationStream, type Logger, pino } from "pino";

/** Log levels, most verbose first. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The fields every task log line carries. */
export interface TaskLogFields {
  readonly task_id: string;
  readonly idempotency_key: string;
  readonly attempt?: number;
  readonly error_class?: string;
}

/** Options of the structured logger. */
export interface LoggerOptions {
  /**
   * Lowest level written (LOG_LEVEL).
   * @default "info"
   */
  readonly level?: string;
  /**
   * Where JSON lines go.
   * @default standard error (stdout stays free for command output)
   */
  readonly destination?: DestinationStream;
}

/** Checks a LOG_LEVEL value; throws naming it when unknown. */
export function parseLogLevel(value: string | undefined, fallback: LogLevel = "info"): LogLevel {
  if (value === undefined || value === "") return fallback;
  const level = value.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new RangeError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(value)}`);
  }
  return level as LogLevel;
}

/**
 * A pino logger writing JSON lines with `level` as a word and `time` in ISO 8601. Calls below
 * the level are no-op functions (see the package bench for their cost).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: parseLogLevel(options.level),
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 2, sync: false }),
  );
}

export type { Logger };
