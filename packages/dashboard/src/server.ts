import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { ConfigError } from "taskq";
import { createDashboard, type Dashboard } from "./app.js";
import { isLoopback } from "./loopback.js";
import { checkToken, type DashboardOptions } from "./options.js";

/** Options of `startDashboard`: the dashboard's, and where it listens. */
export interface StartDashboardOptions extends DashboardOptions {
  /**
   * Port to listen on (0: any free port).
   * @default 9465
   */
  readonly port?: number;
  /**
   * Address to listen on. Any address but loopback (127.0.0.0/8, ::1, localhost) needs `token`.
   * @default "127.0.0.1"
   */
  readonly host?: string;
}

/** A dashboard listening on its own HTTP server. */
export interface RunningDashboard {
  /** Where to open it, e.g. `http://127.0.0.1:9465/`. */
  readonly url: string;
  readonly port: number;
  readonly dashboard: Dashboard;
  /** Stops listening and sampling (the client stays open). */
  close(): Promise<void>;
}

export const DEFAULT_PORT = 9465;
export const DEFAULT_HOST = "127.0.0.1";

/**
 * Checks where a dashboard would listen, before anything is opened: the port, the address, and
 * the rule that any address but loopback needs a token (ConfigError naming the option).
 */
export function checkListen(options: {
  readonly port: number;
  readonly host: string;
  readonly token?: string | undefined;
}): void {
  const { port, host, token } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError("port", `port must be an integer from 0 to 65535, got ${JSON.stringify(port)}`);
  if (typeof host !== "string" || host === "") throw new ConfigError("host", "host must be an address");
  if (token !== undefined) checkToken(token);
  if (!isLoopback(host) && token === undefined)
    throw new ConfigError(
      "token",
      `the dashboard would listen on ${host}, reachable from other machines: set a token (TASKQ_DASHBOARD_TOKEN) or listen on 127.0.0.1`,
    );
}

/**
 * Starts the dashboard on its own HTTP server. Refuses (ConfigError naming `token`) to listen on
 * an address other than loopback without a token: the pages show payloads and results.
 */
export async function startDashboard(options: StartDashboardOptions): Promise<RunningDashboard> {
  const { port = DEFAULT_PORT, host = DEFAULT_HOST, ...rest } = options;
  checkListen({ port, host, token: rest.token });
  const dashboard = createDashboard(rest);
  const server = createAdaptorServer({ fetch: dashboard.fetch, hostname: host });
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
    url: `http://${shown}:${bound}${rest.basePath ?? ""}/`,
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
