import { checkListen, startDashboard } from "@taskq/dashboard";
import type { TaskStoreDriver } from "@taskq/idempotency";
import { createLogger } from "@taskq/metrics";
import { CliError, clientOf, integerAtLeast, redactUrl, withExistingStore } from "taskq/app";
import type { Argv } from "yargs";
import {
  type DashboardTransport,
  resolveTransport,
  TLS_CERT_ENV,
  TLS_KEY_ENV,
  type TransportArgs,
  transportOptions,
} from "../dashboard-transport.js";
import { storeOption } from "../options.js";

interface DashboardArgs extends TransportArgs {
  store: string;
  port: number;
  host: string;
}

/**
 * Checks the address, the token (TASKQ_DASHBOARD_TOKEN) and the TLS flags before the store is
 * opened: one line naming what is wrong, exit 2. A token on an address other than loopback needs
 * --tls-cert/--tls-key, or --allow-plain-http (behind a TLS proxy).
 */
export function checkDashboardListen(port: number, host: string, transport: DashboardTransport): void {
  try {
    checkListen({ port, host, token: dashboardToken(), ...transport });
  } catch (error) {
    const e = error as Error & { option?: string };
    if (e.option === "token" && dashboardToken() !== undefined)
      throw new CliError(`TASKQ_DASHBOARD_TOKEN: ${e.message}`, 2);
    if (e.option === "tls")
      throw new CliError(
        `the dashboard would send its token and session cookie unencrypted on ${host}: give --tls-cert and --tls-key (or ${TLS_CERT_ENV} and ${TLS_KEY_ENV}), or --allow-plain-http behind a TLS proxy`,
        2,
      );
    throw error;
  }
}

/** The dashboard's token, from TASKQ_DASHBOARD_TOKEN (or .env); undefined when unset or empty. */
export function dashboardToken(): string | undefined {
  const token = process.env.TASKQ_DASHBOARD_TOKEN;
  return token === undefined || token === "" ? undefined : token;
}

/**
 * Starts the dashboard over `store` until `signal` aborts: one line saying where, errors as one
 * line (a port in use, a non-loopback address without a token).
 */
export async function runDashboard(
  store: TaskStoreDriver,
  options: { port: number; host: string; command: string; transport: DashboardTransport },
): Promise<{ url: string; close: () => Promise<void> }> {
  const token = dashboardToken();
  try {
    const running = await startDashboard({
      client: clientOf(store, { owned: false }),
      port: options.port,
      host: options.host,
      logger: createLogger(),
      ...(token === undefined ? {} : { token }),
      ...options.transport,
    });
    process.stderr.write(
      `${options.command}: dashboard on ${running.url} for ${redactUrl(store.location)}${token ? " (token required)" : ""}\n`,
    );
    return running;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { option?: string };
    if (e.option !== undefined) throw error; // a ConfigError: one line, exit 2
    throw new CliError(`cannot serve the dashboard on ${options.host}:${options.port}: ${e.message}`, 1);
  }
}

export const dashboardCommand = {
  command: "dashboard",
  describe:
    "Serve the dashboard in a browser: live counts, throughput and workers; find a task; re-drive dead letters; cancel; pause schedules",
  builder: (y: Argv) =>
    transportOptions(
      storeOption(y)
        .option("port", {
          requiresArg: true,
          default: 9465,
          coerce: integerAtLeast("port", 0),
          describe: "port to listen on (0: any free port)",
        })
        .option("host", {
          type: "string",
          requiresArg: true,
          default: "127.0.0.1",
          describe:
            "address to listen on; any but loopback needs TASKQ_DASHBOARD_TOKEN and --tls-cert/--tls-key",
        }),
    )
      .example("taskq dashboard", "http://127.0.0.1:9465/ over the default SQLite store")
      .example(
        "TASKQ_DASHBOARD_TOKEN=... taskq dashboard --store postgres://taskq@db/taskq --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem",
        "reachable from other machines over https, behind a token",
      ),
  handler: (argv: DashboardArgs) => {
    const transport = resolveTransport(argv);
    checkDashboardListen(argv.port, argv.host, transport);
    return withExistingStore(argv.store, async (store) => {
      const running = await runDashboard(store, {
        port: argv.port,
        host: argv.host,
        command: "taskq dashboard",
        transport,
      });
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await running.close();
    });
  },
};
