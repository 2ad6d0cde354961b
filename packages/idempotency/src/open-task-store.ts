import { existsSync } from "node:fs";
import { DEFAULT_ATTEMPTS, DEFAULT_LEASE_MS } from "./defaults.js";
import type { TaskStoreDriver } from "./driver.js";
import { StoreError } from "./errors.js";
import { redactUrl } from "./redact-url.js";
import { SqliteTaskStore } from "./sqlite/sqlite-task-store.js";
import { storeLocationProblem } from "./store-location.js";

/** Options of `openTaskStore`, for either driver (each ignores what it has no use for). */
export interface OpenTaskStoreOptions {
  /**
   * Attempts before a task is dead-lettered, when the task does not say.
   * @default {@link DEFAULT_ATTEMPTS} (3)
   */
  readonly maxAttempts?: number;
  /**
   * Lease of a running task without a heartbeat, in ms.
   * @default {@link DEFAULT_LEASE_MS} (30000)
   */
  readonly leaseMs?: number;
  /** This process's lease owner id. @default `${hostname}:${pid}:${random}` */
  readonly owner?: string;
  /**
   * Put back the running tasks of dead owners and expired leases on open (false for read-only tools).
   * @default true
   */
  readonly recover?: boolean;
  /**
   * Create the store when missing; false: a missing store is an ERR_NOT_FOUND error (read-only tools).
   * @default true
   */
  readonly create?: boolean;
  /** SQLite only: who checkpoints the WAL. @default "auto" */
  readonly checkpoint?: "auto" | "background";
  /** PostgreSQL only: connections in the pool. @default 8 */
  readonly poolSize?: number;
  /** PostgreSQL only: the schema of taskq's tables. @default "taskq" */
  readonly schema?: string;
}

/** True for a `postgres://` or `postgresql://` URL. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/**
 * Opens the task store a location names: a `postgres://` URL opens the PostgreSQL driver (its
 * code and the `pg` client are loaded only then), `:memory:` or a file path a SQLite store (its
 * directory created when missing); any other `scheme://` is refused (ERR_INVALID_INPUT).
 */
export async function openTaskStore(
  location: string,
  options: OpenTaskStoreOptions = {},
): Promise<TaskStoreDriver> {
  const {
    create = true,
    checkpoint,
    poolSize,
    schema,
    maxAttempts = DEFAULT_ATTEMPTS,
    leaseMs = DEFAULT_LEASE_MS,
    ...rest
  } = options;
  const common = { maxAttempts, leaseMs, ...rest };
  const problem = storeLocationProblem(location);
  if (problem !== undefined) throw new StoreError("ERR_INVALID_INPUT", problem);
  if (isPostgresUrl(location)) {
    let driver: typeof import("./postgres.js");
    try {
      driver = await import("./postgres.js");
    } catch (error) {
      throw new StoreError(
        "ERR_CANNOT_OPEN",
        `a postgres:// task store needs the pg package (npm install pg): ${(error as Error).message}`,
        { cause: error },
      );
    }
    return driver.PgTaskStore.open({
      url: location,
      create,
      ...common,
      ...(poolSize === undefined ? {} : { poolSize }),
      ...(schema === undefined ? {} : { schema }),
    });
  }
  if (location !== ":memory:" && !create && !existsSync(location))
    throw new StoreError(
      "ERR_NOT_FOUND",
      `no task store at ${redactUrl(location)} (nothing was run or submitted there yet)`,
    );
  return SqliteTaskStore.open({
    path: location,
    ...common,
    ...(checkpoint === undefined ? {} : { checkpoint }),
  });
}
