// The README's quick start: a queue over the word-count handler, on threads.
import { createQueue } from "taskq";

const queue = await createQueue({
  handler: new URL("./handlers/word-count.mjs", import.meta.url),
  store: ".taskq/quick-start.db", // SQLite; a postgres:// URL works the same
});
const result = await queue.submit({ text: "the quick brown fox jumps over the lazy dog" });
console.log(result); // { words: 9, longest: 'quick' }
console.log(await queue.submit({ text: "the quick brown fox jumps over the lazy dog" })); // stored result, not run again
console.log(queue.metrics().success_count, "run,", queue.metrics().duplicate_count, "duplicate");
await queue.close();
