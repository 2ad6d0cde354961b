-- A task's correlation id and trace context (issue 34), given at enqueue: `correlation_id` (the
-- caller's id of what caused the task, a web request's say; every log line of every attempt
-- carries it) and `trace_context` (the W3C trace context of the span that enqueued it, as a JSON
-- object {"traceparent", "tracestate"?}, written only when OpenTelemetry is in the process; each
-- attempt's span is its child). Both nullable without a default: adding them rewrites no row, and
-- a task without them stores two NULLs. The index holds only tasks that have a correlation id
-- (the dashboard's filter walks it newest first); a task without one is never in it.
ALTER TABLE tasks ADD COLUMN correlation_id text;
ALTER TABLE tasks ADD COLUMN trace_context text;
CREATE INDEX tasks_correlation ON tasks (correlation_id, seq) WHERE correlation_id IS NOT NULL;
