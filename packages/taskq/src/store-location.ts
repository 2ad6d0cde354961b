import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { isPostgresUrl, storeLocationProblem } from "@taskq/idempotency";
import { ensureDirectory } from "@taskq/storage-sim";
import { ConfigError } from "./errors.js";

/**
 * Checks a store location by the one rule (`storeLocationProblem`: a postgres:// or postgresql://
 * URL, `:memory:`, or a file path) and returns it; anything else is a ConfigError whose one line
 * starts with `label` (the option, flag or variable it came from) and masks the password.
 */
export function checkStoreLocation(location: unknown, label: string): string {
  const problem = storeLocationProblem(location, label);
  if (problem !== undefined) throw new ConfigError(label, problem);
  return location as string;
}

/** Creates a SQLite store's directory when missing (a failure is left to the store's own one-line error). */
export async function ensureStoreDirectory(location: string): Promise<void> {
  // refused here too: a location with a wrong scheme must not become a directory
  checkStoreLocation(location, "store location");
  if (location === ":memory:" || isPostgresUrl(location)) return;
  await ensureDirectory(dirname(resolve(location))).catch(() => undefined);
}

/**
 * Whether opening `location` would make a new SQLite file (none is there yet): it holds nothing,
 * so a command can judge what it was given before it creates anything. False for `:memory:` and
 * PostgreSQL, which open to read.
 */
export function isNewStoreFile(location: string): boolean {
  return location !== ":memory:" && !isPostgresUrl(location) && !existsSync(location);
}
