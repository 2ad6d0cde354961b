// History handler: works `ms`, then fails with a TransientError on a draw from its key and
// attempt (the same draw in every process), so some tasks retry and some run out of attempts.
import { TransientError } from "taskq";
import { drawFor } from "./prng.js";
import { type HistoryCtx, type HistoryPayload, recorded, sleep } from "./record.js";

export default recorded(async (payload: HistoryPayload, ctx: HistoryCtx) => {
  await sleep(payload.ms);
  if (drawFor(ctx.key, ctx.attempt) < 0.45) throw new TransientError(`flaky attempt ${ctx.attempt}`);
});
