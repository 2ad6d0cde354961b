// Retries and the dead letter: o-1 succeeds on its third attempt, o-2 is refused at once, o-3
// runs out of attempts.
import { createQueue } from "taskq";

const queue = await createQueue({
  handler: new URL("./handlers/flaky-payment.mjs", import.meta.url),
  store: ":memory:",
  threads: 0, // on the main thread: fine for a demo
  attempts: 3,
  backoffBaseMs: 10,
  backoffMaxMs: 50,
});
for (const payment of [
  { order: "o-1", amount: 25 },
  { order: "o-2", amount: -5 },
  { order: "o-3", amount: 10 },
]) {
  try {
    console.log("ok", await queue.submit(payment, { id: payment.order }));
  } catch (error) {
    console.log("failed", payment.order, error.errorClass, `after ${error.attempts} attempt(s)`);
  }
}
const { retry_count, success_count, fail_count } = queue.metrics();
console.log({ retry_count, success_count, fail_count });
// a page of the dead letters (newest first), printed oldest first
for (const letter of (await queue.store.listDeadLetters({ limit: 100 })).reverse())
  console.log("dead letter", letter.taskId, letter.errorClass, letter.errorMessage);
await queue.close();
