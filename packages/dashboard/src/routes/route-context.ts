import type { TaskStoreDriver } from "@taskq/idempotency";
import type { Context, Hono } from "hono";
import type { Client } from "taskq";
import type { Guard } from "../auth.js";
import { DashboardHttpError } from "../http-error.js";
import type { ResolvedOptions } from "../options.js";
import type { Html, PageContext } from "../views/layout.js";

/** What every route group is given: the app to add its routes to, the store, and the page helpers. */
export interface RouteContext {
  readonly app: Hono;
  readonly options: ResolvedOptions;
  readonly client: Client;
  readonly store: TaskStoreDriver;
  readonly guard: Guard;
  /** The base path the dashboard is mounted under ("" at the root). */
  readonly base: string;
  /** The session cookie of the request, if any. */
  sessionOf(c: Context): string | undefined;
  /** What a page needs of the request: base path, CSRF token, store location, notice. */
  pageOf(c: Context): PageContext;
  render(
    c: Context,
    page: Html,
    status?: 200 | 400 | 401 | 403 | 404 | 409 | 413 | 429 | 500,
  ): Promise<Response>;
  /** Logs an action taken from the dashboard, with where the request came from. */
  logAction(c: Context, action: string, fields: Record<string, unknown>, message: string): void;
  /** The path to redirect to after an action, with its notice (`done=…&n=…`). */
  done(path: string, what: string, n?: number): string;
}

/** The form of a POST, or a 400 when it cannot be read. */
export async function formOf(c: Context): Promise<Record<string, string | File | (string | File)[]>> {
  try {
    return await c.req.parseBody({ all: true });
  } catch {
    throw new DashboardHttpError(400, "the form could not be read (send application/x-www-form-urlencoded)");
  }
}
