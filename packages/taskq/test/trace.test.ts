// One trace from a web request to the handler, across processes, on PostgreSQL: a producer
// process (OpenTelemetry's SDK with an in-memory exporter) enqueues inside a request's span; a
// worker process (the SDK registered too) runs the task, which fails its first attempt and
// succeeds its second, its handler making a span of its own. Each process writes its finished
// spans as JSON; one trace id, both attempt spans children of the request's span, the handler's
// span a child of its attempt's. With threads: 0 the worker's provider exports the handler's
// span; on a thread, the handler module registers the SDK in its thread (as an application must).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { connect } from "../src/index.js";
import { freshDatabase } from "./fresh-database.js";

const run = promisify(execFile);
const script = (name: string) => new URL(`./fixtures/otel/${name}.mjs`, import.meta.url).pathname;

interface SpanJson {
  readonly name: string;
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | null;
  readonly attributes: Record<string, unknown>;
  readonly status: { readonly code: number; readonly message?: string };
}

let store = "";
beforeAll(async () => {
  store = await freshDatabase(inject("pgUrl"), "taskq_trace");
});

describe.each([0, 1])("a trace from the producer to the handler (PostgreSQL, threads: %i)", (threads) => {
  it("one trace id; the attempts' parent is the request's span, the handler's span's parent its attempt", async () => {
    const dir = mkdtempSync(join(tmpdir(), "taskq-trace-"));
    const kind = `signup_${threads}`;
    await run(process.execPath, [script("producer"), store, kind, "req-9c1e", join(dir, "producer.json")]);
    const producer = JSON.parse(readFileSync(join(dir, "producer.json"), "utf8")) as {
      id: string;
      spans: SpanJson[];
    };
    const threadSpans = join(dir, "thread-spans.json");
    await run(process.execPath, [
      script("worker"),
      store,
      kind,
      producer.id,
      String(threads),
      threadSpans,
      join(dir, "worker.json"),
    ]);
    const worker = JSON.parse(readFileSync(join(dir, "worker.json"), "utf8")) as {
      result: unknown;
      spans: SpanJson[];
    };
    expect(worker.result).toEqual({ attempt: 2, correlationId: "req-9c1e" });

    const [request] = producer.spans;
    expect(producer.spans.map((s) => s.name)).toEqual(["GET /signup"]);
    const attempts = worker.spans.filter((s) => s.name === `taskq.run ${kind}`);
    const handlerSpans =
      threads === 0
        ? worker.spans.filter((s) => s.name === "handler.work")
        : (JSON.parse(readFileSync(threadSpans, "utf8")) as SpanJson[]);
    expect(attempts).toHaveLength(2);
    expect(handlerSpans.map((s) => s.name)).toEqual(["handler.work"]);
    const all = [request as SpanJson, ...attempts, ...handlerSpans];
    expect(new Set(all.map((s) => s.traceId)).size).toBe(1);
    for (const a of attempts) expect(a.parentSpanId).toBe(request?.spanId);
    const [first, second] = [...attempts].sort(
      (a, b) => Number(a.attributes["taskq.attempt"]) - Number(b.attributes["taskq.attempt"]),
    );
    expect(handlerSpans[0]?.parentSpanId).toBe(second?.spanId);
    expect(handlerSpans[0]?.attributes).toEqual({ "app.attempt": 2 });
    // CONSUMER (4); attributes; the failure as the span's status (ERROR 2, OK 1)
    expect(first).toMatchObject({
      kind: 4,
      attributes: {
        "taskq.kind": kind,
        "taskq.task_id": producer.id,
        "taskq.attempt": 1,
        "taskq.correlation_id": "req-9c1e",
        "taskq.outcome": "retrying",
        "taskq.error_class": "transient",
      },
      status: { code: 2, message: "transient: busy (attempt 1)" },
    });
    expect(second).toMatchObject({
      kind: 4,
      attributes: { "taskq.attempt": 2, "taskq.outcome": "succeeded" },
      status: { code: 1 },
    });
    for (const a of attempts) expect(a.attributes["taskq.wait_ms"]).toBeGreaterThanOrEqual(0);

    // the stored context is the request span's
    const client = await connect({ store });
    try {
      const info = await client.get(producer.id);
      expect(info?.traceparent).toBe(`00-${request?.traceId}-${request?.spanId}-01`);
      expect(info?.correlationId).toBe("req-9c1e");
    } finally {
      await client.close();
    }
  });
});

describe("without @opentelemetry/api installed", () => {
  it.each([0, 1])(
    "taskq imports and runs a task (threads: %i); only the correlation id is stored",
    async (threads) => {
      const dir = mkdtempSync(join(tmpdir(), "taskq-no-otel-"));
      const { stdout } = await run(process.execPath, [
        script("without-api"),
        join(dir, "tasks.db"),
        String(threads),
      ]);
      expect(JSON.parse(stdout)).toEqual({
        missing: true,
        result: { attempt: 1, correlationId: "req-1" },
        correlationId: "req-1",
        traceContext: null,
      });
    },
  );
});
