import { dirname, resolve } from "node:path";
import { isPostgresUrl } from "@taskq/idempotency";
import { ensureDirectory } from "@taskq/storage-sim";

/** Creates a SQLite store's directory when missing (a failure is left to the store's own one-line error). */
export async function ensureStoreDirectory(location: string): Promise<void> {
  if (location === ":memory:" || isPostgresUrl(location)) return;
  await ensureDirectory(dirname(resolve(location))).catch(() => undefined);
}
