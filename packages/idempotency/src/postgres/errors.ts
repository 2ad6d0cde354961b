import { StoreError } from "../errors.js";
import { redactLocationIn, redactUrl } from "../redact-url.js";

export { redactUrl };

/** SQLSTATEs after which the same statement may succeed on a new connection or a little later. */
const TRANSIENT_SQLSTATE = new Set([
  "57P01", // admin_shutdown: the server is restarting
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: starting up
  "53300", // too_many_connections
  "40001", // serialization_failure
  "40P01", // deadlock_detected
]);

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** True for a lost or refused connection, a restarting server, a deadlock: worth trying again. */
export function isTransient(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  if (TRANSIENT_SQLSTATE.has(code) || code.startsWith("08") || NETWORK_CODES.has(code)) return true;
  const message = typeof e?.message === "string" ? e.message : "";
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client was closed|Client has encountered a connection error/i.test(
    message,
  );
}

/**
 * One clear line for a PostgreSQL or connection error, naming the server at `url` without its
 * password; the driver's or server's own message is kept without it too (a malformed URL is read
 * otherwise by pg: a piece of its password may come back as a database, user or file name).
 */
export function fromPg(error: unknown, what: string, url: string): StoreError {
  if (error instanceof StoreError) return error;
  const e = error as { code?: string; message?: string; hostname?: string };
  const message = redactLocationIn(e?.message ?? String(error), url);
  const at = `PostgreSQL at ${redactUrl(url)}`;
  switch (e?.code) {
    case "ECONNREFUSED":
      return new StoreError("ERR_STORE_UNAVAILABLE", `${what}: cannot reach ${at}: connection refused`, {
        cause: error,
      });
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new StoreError("ERR_CANNOT_OPEN", `${what}: cannot reach ${at}: host not found`, {
        cause: error,
      });
    case "28P01":
    case "28000":
      return new StoreError("ERR_CANNOT_OPEN", `${what}: ${at} refused the credentials: ${message}`, {
        cause: error,
      });
    case "3D000":
      return new StoreError("ERR_CANNOT_OPEN", `${what}: ${at}: ${message}`, { cause: error });
    case "42501":
      return new StoreError("ERR_CANNOT_OPEN", `${what}: ${at}: permission denied: ${message}`, {
        cause: error,
      });
  }
  if (isTransient(error))
    return new StoreError("ERR_STORE_UNAVAILABLE", `${what}: ${at} is unavailable: ${message}`, {
      cause: error,
    });
  return new StoreError("ERR_POSTGRES", `${what}: ${message}`, { cause: error });
}
