import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { ConfigError } from "taskq";
import { createDashboard, type Dashboard } from "./app.js";
import { isLoopback } from "./loopback.js";
import { checkToken, type DashboardOptions } from "./options.js";
import { checkTls, type DashboardTls } from "./tls.js";

/** Options of `startDashboard`: the dashboard's, and where it listens. */
export interface StartDashboardOptions extends DashboardOptions {
  /**
   * Port to listen on (0: any free port).
   * @default 9465
   */
  readonly port?: number;
  /**
   * Address to listen on. Any address but loopback (127.0.0.0/8, ::1, localhost) needs `token`,
   * and `tls` (or `allowPlainHttp`).
   * @default "127.0.0.1"
   */
  readonly host?: string;
  /**
   * Serve https with this certificate and key (PEM text, as `https.createServer` takes them:
   * `readFileSync("cert.pem")`). Checked before anything listens: a ConfigError naming `tls` when
   * either is not PEM, the key is encrypted, or the key is not the certificate's.
   * @default undefined (plain http)
   */
  readonly tls?: DashboardTls;
  /**
   * Serve a token over plain http on an address other than loopback: only for a dashboard behind
   * a TLS proxy on a network no one else reaches (see `trustProxy`). Without it, such a dashboard
   * is refused (a ConfigError naming `tls`): the token and the session cookie would cross the
   * network unencrypted.
   * @default false
   */
  readonly allowPlainHttp?: boolean;
}

/** A dashboard listening on its own HTTP server. */
export interface RunningDashboard {
  /** Where to open it, e.g. `http://127.0.0.1:9465/` (`https://` with `tls`). */
  readonly url: string;
  readonly port: number;
  readonly dashboard: Dashboard;
  /** Stops listening and sampling (the client stays open). */
  close(): Promise<void>;
}

export const DEFAULT_PORT = 9465;
export const DEFAULT_HOST = "127.0.0.1";

/**
 * Checks where a dashboard would listen, before anything is opened: the port, the address, the
 * rule that any address but loopback needs a token, and that a token there needs TLS (or
 * `allowPlainHttp`). A ConfigError naming the option.
 */
export function checkListen(options: {
  readonly port: number;
  readonly host: string;
  readonly token?: string | undefined;
  readonly tls?: DashboardTls | undefined;
  readonly allowPlainHttp?: boolean | undefined;
}): void {
  const { port, host, token, tls, allowPlainHttp = false } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError("port", `port must be an integer from 0 to 65535, got ${JSON.stringify(port)}`);
  if (typeof host !== "string" || host === "") throw new ConfigError("host", "host must be an address");
  if (token !== undefined) checkToken(token);
  if (!isLoopback(host) && token === undefined)
    throw new ConfigError(
      "token",
      `the dashboard would listen on ${host}, reachable from other machines: set a token (TASKQ_DASHBOARD_TOKEN) or listen on 127.0.0.1`,
    );
  if (typeof allowPlainHttp !== "boolean")
    throw new ConfigError(
      "allowPlainHttp",
      `allowPlainHttp must be true or false, got ${JSON.stringify(allowPlainHttp)}`,
    );
  if (!isLoopback(host) && token !== undefined && tls === undefined && !allowPlainHttp)
    throw new ConfigError(
      "tls",
      `the dashboard would send its token and session cookie unencrypted on ${host}: give it tls { cert, key }, or allowPlainHttp: true behind a TLS proxy`,
    );
}

/**
 * Served over its own TLS, the dashboard tells browsers to come back over https only: a year, this
 * host only (includeSubDomains would bind every name under the domain). Mounted in an app of
 * yours, HSTS is that app's to send.
 */
export const HSTS = "max-age=31536000";

function withHsts(fetch: Dashboard["fetch"]): Dashboard["fetch"] {
  return async (request, env) => {
    const response = await fetch(request, env);
    const headers = new Headers(response.headers);
    headers.set("strict-transport-security", HSTS);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
}

/**
 * Starts the dashboard on its own HTTP server (https with `tls`). Refuses (ConfigError naming
 * `token`) to listen on an address other than loopback without a token: the pages show payloads
 * and results; and there (naming `tls`) a token over plain http, unless `allowPlainHttp`.
 */
export async function startDashboard(options: StartDashboardOptions): Promise<RunningDashboard> {
  const { port = DEFAULT_PORT, host = DEFAULT_HOST, tls, allowPlainHttp, ...rest } = options;
  const checked = tls === undefined ? undefined : checkTls(tls);
  checkListen({ port, host, token: rest.token, tls: checked, allowPlainHttp });
  const dashboard = createDashboard(rest);
  const server = createAdaptorServer(
    checked === undefined
      ? { fetch: dashboard.fetch, hostname: host }
      : {
          fetch: withHsts(dashboard.fetch),
          hostname: host,
          createServer: createHttpsServer,
          serverOptions: { cert: checked.cert, key: checked.key },
        },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => {
      dashboard.close();
      reject(error);
    });
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const shown = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return {
    url: `${checked === undefined ? "http" : "https"}://${shown}:${bound}${rest.basePath ?? ""}/`,
    port: bound,
    dashboard,
    close: () =>
      new Promise<void>((done) => {
        dashboard.close();
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => done());
      }),
  };
}
