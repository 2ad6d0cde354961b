// OpenTelemetry, when the application has it: `@opentelemetry/api` is an optional peer dependency,
// imported once on first need (a dynamic import, cached) and never required. Without it, or with
// it but no tracer provider registered, nothing here makes a span or writes a trace context.
//
// At enqueue the active span's context is written as W3C trace context (`traceparent`, and
// `tracestate` when it has one: what the W3C propagator writes) and stored with the task. A
// worker runs each attempt in a span `taskq.run <kind>` (kind CONSUMER) whose parent is that
// context, active while the handler runs (threads: 0), or passed to the handler's thread as the
// attempt span's traceparent (handler-thread.ts runs the handler inside it there).
import type * as Otel from "@opentelemetry/api";
import { parseTraceparent } from "@taskq/idempotency";
import type { AttemptSpan, AttemptSpanInfo, FailureInfo, TraceCarrier, TracerPort } from "@taskq/queue";

type Api = typeof Otel;

/** The api once loaded: undefined until tried, null when it is not installed. */
let api: Api | null | undefined;
let loading: Promise<Api | null> | undefined;
/** The api's own no-op provider: a registered provider is any other. */
let noopProvider: unknown;

/** Imports `@opentelemetry/api` once; null when it cannot be imported (not installed). */
export function loadOtel(): Promise<Api | null> {
  loading ??= import("@opentelemetry/api").then(
    (m) => {
      api = m;
      noopProvider = new m.ProxyTracerProvider().getDelegate();
      return m;
    },
    () => (api = null),
  );
  return loading;
}

/** Whether a tracer provider is registered (the api alone traces nothing): two property reads. */
function tracing(a: Api): boolean {
  const provider = a.trace.getTracerProvider() as { getDelegate?: () => unknown };
  return typeof provider.getDelegate !== "function" || provider.getDelegate() !== noopProvider;
}

/** The span context as W3C trace context, or undefined when it is not a valid one. */
function carrierOf(a: Api, span: Otel.Span | undefined): TraceCarrier | undefined {
  if (!span) return undefined;
  const c = span.spanContext();
  if (!a.trace.isSpanContextValid(c)) return undefined;
  const traceparent = `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
  const tracestate = c.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/**
 * The trace context to store with a task enqueued now: the active span's, when OpenTelemetry is
 * installed and a span is active; else undefined. A promise only on the first call (it imports
 * the api); then answered at once (without the api: one comparison).
 */
export function enqueueTraceContext(): TraceCarrier | undefined | Promise<TraceCarrier | undefined> {
  if (api === undefined)
    return loadOtel().then((a) => (a ? carrierOf(a, a.trace.getActiveSpan()) : undefined));
  return api ? carrierOf(api, api.trace.getActiveSpan()) : undefined;
}

/** The active span's traceparent, for a handler's thread; undefined without OpenTelemetry loaded. */
export function activeTraceparent(): string | undefined {
  return api ? carrierOf(api, api.trace.getActiveSpan())?.traceparent : undefined;
}

/** A context whose span is the remote one a carrier names (undefined when it names none). */
function contextOf(a: Api, carrier: TraceCarrier): Otel.Context | undefined {
  const parsed = parseTraceparent(carrier.traceparent);
  if (!parsed) return undefined;
  const spanContext: Otel.SpanContext = {
    ...parsed,
    isRemote: true,
    ...(carrier.tracestate ? { traceState: a.createTraceState(carrier.tracestate) } : {}),
  };
  return a.trace.isSpanContextValid(spanContext)
    ? a.trace.setSpanContext(a.context.active(), spanContext)
    : undefined;
}

/** Runs `fn` inside the context `traceparent` names (a handler's thread); just `fn` without one. */
export async function runInTraceparent<R>(traceparent: string | undefined, fn: () => Promise<R>): Promise<R> {
  if (traceparent === undefined) return fn();
  const a = api === undefined ? await loadOtel() : api;
  const ctx = a ? contextOf(a, { traceparent }) : undefined;
  return a && ctx ? a.context.with(ctx, fn) : fn();
}

/**
 * The orchestrator's tracer: an attempt's span when OpenTelemetry is loaded and a provider is
 * registered (checked at each attempt: an application may register it after the worker starts),
 * else undefined and nothing done.
 */
export function attemptTracer(a: Api): TracerPort {
  const tracer = a.trace.getTracer("taskq");
  return {
    enabled: () => tracing(a),
    startAttempt(info: AttemptSpanInfo): AttemptSpan | undefined {
      const parent = (info.traceContext && contextOf(a, info.traceContext)) ?? a.context.active();
      const attributes: Otel.Attributes = {
        "taskq.kind": info.kind,
        "taskq.task_id": info.id,
        "taskq.attempt": info.attempt,
      };
      if (info.correlationId !== undefined) attributes["taskq.correlation_id"] = info.correlationId;
      if (info.waitMs !== undefined) attributes["taskq.wait_ms"] = info.waitMs;
      const span = tracer.startSpan(
        `taskq.run ${info.kind}`,
        { kind: a.SpanKind.CONSUMER, attributes },
        parent,
      );
      const active = a.trace.setSpan(parent, span);
      return {
        run: (fn) => a.context.with(active, fn),
        end(outcome: string, failure?: FailureInfo) {
          span.setAttribute("taskq.outcome", outcome);
          if (failure) {
            span.setAttribute("taskq.error_class", failure.errorClass);
            span.setStatus({
              code: a.SpanStatusCode.ERROR,
              message: `${failure.errorClass}: ${failure.message}`,
            });
          } else if (outcome === "succeeded") span.setStatus({ code: a.SpanStatusCode.OK });
          span.end();
        },
      };
    },
  };
}
