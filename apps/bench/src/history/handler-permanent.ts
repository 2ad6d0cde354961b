// History handler: works `ms`, then fails for good (PermanentError: no retry) on a draw from its
// key, or succeeds.
import { PermanentError } from "taskq";
import { drawFor } from "./prng.js";
import { type HistoryCtx, type HistoryPayload, recorded, sleep } from "./record.js";

export default recorded(async (payload: HistoryPayload, ctx: HistoryCtx) => {
  await sleep(payload.ms);
  if (drawFor(ctx.key, "permanent") < 0.5) throw new PermanentError("permanently broken");
});
