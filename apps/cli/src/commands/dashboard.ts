import { checkListen, startDashboard } from "@taskq/dashboard";
import type { TaskStoreDriver } from "@taskq/idempotency";
import { createLogger } from "@taskq/metrics";
import { CliError, clientOf, integerAtLeast, redactUrl, withExistingStore } from "taskq/app";
import type { Argv } from "yargs";
import { storeOption } from "../options.js";

interface DashboardArgs {
  store: string;
  port: number;
  host: string;
}

/**
 * Checks the address and the token (TASKQ_DASHBOARD_TOKEN) before the store is opened: one line
 * naming what is wrong, exit 2.
 */
export function checkDashboardListen(port: number, host: string): void {
  try {
    checkListen({ port, host, token: dashboardToken() });
  } catch (error) {
    const e = error as Error & { option?: string };
    if (e.option === "token" && dashboardToken() !== undefined)
      throw new CliError(`TASKQ_DASHBOARD_TOKEN: ${e.message}`, 2);
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
  options: { port: number; host: string; command: string },
): Promise<{ url: string; close: () => Promise<void> }> {
  const token = dashboardToken();
  try {
    const running = await startDashboard({
      client: clientOf(store, { owned: false }),
      port: options.port,
      host: options.host,
      logger: createLogger(),
      ...(token === undefined ? {} : { token }),
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
        describe: "address to listen on; any but loopback needs TASKQ_DASHBOARD_TOKEN",
      })
      .example("taskq dashboard", "http://127.0.0.1:9465/ over the default SQLite store")
      .example(
        "TASKQ_DASHBOARD_TOKEN=... taskq dashboard --store postgres://taskq@db/taskq --host 0.0.0.0",
        "reachable from other machines, behind a token",
      ),
  handler: (argv: DashboardArgs) => {
    checkDashboardListen(argv.port, argv.host);
    return withExistingStore(argv.store, async (store) => {
      const running = await runDashboard(store, {
        port: argv.port,
        host: argv.host,
        command: "taskq dashboard",
      });
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await running.close();
    });
  },
};
