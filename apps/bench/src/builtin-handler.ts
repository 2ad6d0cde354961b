// The built-in task types as a handler module, for `taskq-bench front-door --profile io|cpu`: the
// payload is a built-in task, run by the processor (its configuration is `ctx.options`) on the
// handler runtime's threads, so createQueue and the hand-wired runtime run the same code there.
import { createProcessor, type Processor, type ProcessorConfig, parseTask } from "@taskq/processor";
import { PermanentError, TransientError } from "taskq";

let processor: Promise<Processor> | undefined;

export default async function builtIn(
  payload: unknown,
  ctx: { readonly attempt: number; readonly options: unknown },
): Promise<unknown> {
  processor ??= createProcessor(ctx.options as ProcessorConfig).catch((error: unknown) => {
    processor = undefined; // the next attempt tries again
    throw error;
  });
  const outcome = await (await processor).run(parseTask(payload), ctx.attempt);
  if (outcome.ok) return outcome.output;
  const { message, retryable, errorClass } = outcome.error;
  throw retryable ? new TransientError(message, errorClass) : new PermanentError(message, errorClass);
}
