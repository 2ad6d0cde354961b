// A handler whose remote fails now and then: TransientError is retried with backoff,
// PermanentError goes to the dead letters at once, and so does a transient one out of attempts.
import { PermanentError, TransientError } from "taskq";

export default async function charge({ order, amount }, ctx) {
  if (amount <= 0) throw new PermanentError(`order ${order}: amount must be positive, got ${amount}`);
  if (order === "o-3") throw new TransientError("payment gateway timed out"); // always, for the demo
  if (ctx.attempt < 3) throw new TransientError(`gateway busy (attempt ${ctx.attempt})`);
  return { order, charged: amount, attempts: ctx.attempt };
}
