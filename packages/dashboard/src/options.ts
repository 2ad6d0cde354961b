import { MAX_PAGE } from "@taskq/idempotency";
import type { Client } from "taskq";
import { ConfigError } from "taskq";
import { DEFAULT_COUNT_CAP } from "taskq/app";
import { TrustedProxies } from "./trust-proxy.js";

/** Where the dashboard logs what its actions did (a pino logger fits). */
export interface DashboardLogger {
  info(fields: Record<string, unknown>, message: string): void;
}

/** Options of `createDashboard`. */
export interface DashboardOptions {
  /**
   * The store to show and act on, through a taskq client: `connect({ store })`, or `clientOf`
   * over a store you already hold. The dashboard never closes it.
   */
  readonly client: Client;
  /**
   * The path the dashboard is mounted at in your server (`/taskq`): its links, forms and cookie
   * use it. Empty for the root.
   * @default ""
   */
  readonly basePath?: string;
  /**
   * When set, every page and action needs it: a sign-in form starts a session (a random id in an
   * HttpOnly cookie), and scripts send `Authorization: Bearer <token>`. Needed to listen on an
   * address other than loopback (`startDashboard`). At least 16 printable ASCII characters, no
   * spaces, 8 or more of them different (`openssl rand -hex 16` makes one). Wrong tokens are
   * limited: 10 from a client (an address, an IPv6 /64) within 15 minutes lock it out of trying
   * for 15 minutes (429 with Retry-After, even with the right token), 100 from everyone together
   * lock out every token attempt likewise; sessions already signed in carry on.
   * @default undefined (no token: requests to localhost or 127.0.0.1, from this machine, only)
   */
  readonly token?: string;
  /**
   * The clock, in epoch ms: when sessions end and the windows of the limit on wrong tokens (for
   * tests).
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * Where each action (re-drive, purge, cancel, pause, resume, login) is logged with what it did.
   * @default JSON lines on standard error
   */
  readonly logger?: DashboardLogger;
  /**
   * Each status is counted over at most this many tasks (through its partial index), so the
   * overview stays fast on a store of any size; a count that reaches it shows as `N+`.
   * @default 10000
   */
  readonly countCap?: number;
  /**
   * Tasks and dead letters per page (at most 500).
   * @default 50
   */
  readonly pageSize?: number;
  /**
   * How often the throughput and latency charts take a sample while the overview is open (ms).
   * @default 1000
   */
  readonly sampleMs?: number;
  /**
   * The reverse proxies to believe when they say the browser came over https (`X-Forwarded-Proto:
   * https` or `Forwarded: proto=https`): their addresses or CIDRs, as the socket sees them, e.g.
   * `["127.0.0.1", "10.0.0.0/8"]`. Such a request's session cookie is `Secure`. The header from
   * any other peer is ignored, and so is every such header when the socket cannot be seen (a
   * server that does not pass @hono/node-server's `env`).
   * @default [] (no proxy is trusted: the cookie is `Secure` only over TLS to this process)
   */
  readonly trustProxy?: readonly string[];
}

export const DEFAULTS = { basePath: "", countCap: DEFAULT_COUNT_CAP, pageSize: 50, sampleMs: 1000 } as const;
/** A token's shortest length, and the fewest different characters it may have. */
export const MIN_TOKEN_LENGTH = 16;
export const MIN_TOKEN_CHARACTERS = 8;

const KEYS = new Set([
  "client",
  "basePath",
  "token",
  "now",
  "logger",
  "countCap",
  "pageSize",
  "sampleMs",
  "trustProxy",
]);

export interface ResolvedOptions {
  readonly client: Client;
  readonly basePath: string;
  readonly token: string | undefined;
  readonly now: () => number;
  readonly logger: DashboardLogger;
  readonly countCap: number;
  readonly pageSize: number;
  readonly sampleMs: number;
  readonly trustProxy: TrustedProxies;
}

const stderrLogger: DashboardLogger = {
  info(fields, message) {
    process.stderr.write(
      `${JSON.stringify({ level: "info", time: new Date().toISOString(), ...fields, msg: message })}\n`,
    );
  },
};

/**
 * A token is at least 16 printable ASCII characters without spaces (it travels in a header), 8
 * or more of them different: `aaaaaaaaaaaaaaaa` and sixteen spaces are refused (ConfigError naming
 * `token`, which never shows the token).
 */
export function checkToken(token: unknown): asserts token is string {
  if (
    typeof token !== "string" ||
    token.length < MIN_TOKEN_LENGTH ||
    !/^[\x21-\x7e]+$/.test(token) ||
    new Set(token).size < MIN_TOKEN_CHARACTERS
  )
    throw new ConfigError(
      "token",
      `the dashboard token must be at least ${MIN_TOKEN_LENGTH} printable ASCII characters without spaces, ${MIN_TOKEN_CHARACTERS} or more of them different (make one with: openssl rand -hex 16)`,
    );
}

function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(
      name,
      `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  return value;
}

/** Checks the options, naming the first one that is wrong. */
export function resolveOptions(options: DashboardOptions): ResolvedOptions {
  if (options === null || typeof options !== "object")
    throw new ConfigError("options", "createDashboard needs an options object");
  for (const key of Object.keys(options))
    if (!KEYS.has(key)) throw new ConfigError(key, `unknown dashboard option ${JSON.stringify(key)}`);
  const client = options.client;
  if (client === null || typeof client !== "object" || typeof client.store?.statusCounts !== "function")
    throw new ConfigError("client", "client must be a taskq client (connect() or clientOf(store))");
  const basePath = options.basePath ?? DEFAULTS.basePath;
  if (typeof basePath !== "string" || !/^(\/[A-Za-z0-9._~-]+)*$/.test(basePath))
    throw new ConfigError(
      "basePath",
      `basePath must be empty or a path like "/taskq", got ${JSON.stringify(basePath)}`,
    );
  const token = options.token;
  if (token !== undefined) checkToken(token);
  const now = options.now ?? Date.now;
  if (typeof now !== "function") throw new ConfigError("now", "now must be a function returning epoch ms");
  const logger = options.logger ?? stderrLogger;
  if (typeof logger?.info !== "function")
    throw new ConfigError("logger", "logger must have an info(fields, message) method");
  return {
    client,
    basePath,
    token,
    now,
    logger,
    countCap: integerIn("countCap", options.countCap ?? DEFAULTS.countCap, 1, 1_000_000),
    pageSize: integerIn("pageSize", options.pageSize ?? DEFAULTS.pageSize, 1, MAX_PAGE),
    sampleMs: integerIn("sampleMs", options.sampleMs ?? DEFAULTS.sampleMs, 100, 60_000),
    trustProxy: new TrustedProxies(options.trustProxy ?? []),
  };
}
