import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { toPrometheus, withLabels } from "@taskq/metrics";
import { KindRouter, type Runtime, readStore, storePrometheus, threadPoolsOf } from "taskq/app";

/** A worker's HTTP endpoints for a supervisor and a Prometheus scraper. */
export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Whether the worker is fit to work: its store answers and its threads are all alive. */
export async function health(runtime: Runtime): Promise<{ ok: boolean; store: string; threads: string }> {
  let store = "ok";
  try {
    // one round trip that proves the store answers: a probe must cost the same at 10 million tasks
    await runtime.store.now();
  } catch (error) {
    store = `unreachable: ${(error as Error).message}`;
  }
  const executor = runtime.executor;
  // the thread pools: the shared one, and those of kinds isolated in threads (processes start
  // when their kind's attempts need them, and a dead one is replaced by the next attempt)
  const pools = threadPoolsOf(executor);
  const wanted = pools.reduce((sum, p) => sum + p.threads, 0);
  const alive = pools.reduce((sum, p) => sum + p.threadCount, 0);
  const threads =
    pools.length > 0
      ? `${alive} of ${wanted} alive`
      : executor instanceof KindRouter
        ? `none: every kind in child processes (${executor.concurrency} slots)`
        : `inline (${executor.concurrency} slots)`;
  return { ok: store === "ok" && alive >= wanted, store, threads };
}

/**
 * Serves `GET /metrics` (this worker's metrics and the store's, in the Prometheus text format,
 * every sample labelled `node`) and `GET /healthz` (200 when the store answers and every thread
 * is alive, 503 otherwise, with a JSON body saying which).
 */
export function startMetricsServer(
  runtime: Runtime,
  options: { port: number; host: string },
): Promise<MetricsServer> {
  const node = runtime.store.owner;
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    const reply = (status: number, type: string, body: string) => {
      response.writeHead(status, { "content-type": type });
      response.end(body);
    };
    if (request.method !== "GET") return reply(405, "text/plain", "method not allowed\n");
    if (path === "/metrics") {
      readStore(runtime.store)
        .then((reading) => toPrometheus(runtime.metrics.snapshot()) + storePrometheus(reading))
        .catch(() => toPrometheus(runtime.metrics.snapshot()))
        .then((text) => reply(200, "text/plain; version=0.0.4", withLabels(text, { node })));
      return;
    }
    if (path === "/healthz") {
      void health(runtime).then((h) =>
        reply(h.ok ? 200 : 503, "application/json", `${JSON.stringify({ ...h, node })}\n`),
      );
      return;
    }
    reply(404, "text/plain", "not found: try /metrics or /healthz\n");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
