// Requests to a dashboard through its fetch handler, as a browser would send them (the socket's peer
// given as @hono/node-server's env: this machine unless told).
import type { Dashboard } from "../src/index.js";

export const ORIGIN = "http://127.0.0.1:9465";

export interface Reply {
  readonly status: number;
  readonly text: string;
  readonly location: string | null;
  readonly cookie: string | null;
  readonly retryAfter?: string | null;
  readonly headers?: Headers;
}

/** The `env` @hono/node-server passes, with the socket's peer: a request from `address`. */
export const from = (address: string) => ({ incoming: { socket: { remoteAddress: address } } });

/**
 * A request from this machine, as get and post send by default: a dashboard without a token
 * serves only a client it can see on loopback.
 */
export const LOCAL = from("127.0.0.1");

export async function reply(response: Response): Promise<Reply> {
  return {
    status: response.status,
    text: await response.text(),
    location: response.headers.get("location"),
    cookie: response.headers.get("set-cookie"),
    retryAfter: response.headers.get("retry-after"),
    headers: response.headers,
  };
}

export async function get(
  d: Dashboard,
  path: string,
  headers: Record<string, string> = {},
  env: unknown = LOCAL,
): Promise<Reply> {
  return reply(await d.fetch(new Request(`${ORIGIN}${path}`, { headers }), env));
}

/** A form POST from the dashboard's own page (same origin) unless `headers` say otherwise. */
export async function post(
  d: Dashboard,
  path: string,
  fields: readonly [string, string][],
  headers: Record<string, string> = {},
  env: unknown = LOCAL,
): Promise<Reply> {
  return reply(
    await d.fetch(
      new Request(`${ORIGIN}${path}`, {
        method: "POST",
        body: new URLSearchParams(fields as [string, string][]).toString(),
        headers: { origin: ORIGIN, "content-type": "application/x-www-form-urlencoded", ...headers },
      }),
      env,
    ),
  );
}

/** The CSRF token a page's forms carry. */
export function csrfOf(page: Reply): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
  if (token === undefined) throw new Error(`no CSRF token on the page (status ${page.status})`);
  return token;
}

/** The number a count card shows (`data-count="queued"`), "+" kept. */
export function countOf(page: Reply, status: string): string | undefined {
  return new RegExp(`data-count="${status}">([^<]*)<`).exec(page.text)?.[1];
}
