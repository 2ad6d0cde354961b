// History handler: waits for ctx.signal only: a cancel ends it, or the timeout (then it retries
// until its attempts run out).
import { type HistoryCtx, type HistoryPayload, recorded, sleep } from "./record.js";

export default recorded(async (_payload: HistoryPayload, ctx: HistoryCtx) => {
  await sleep(2 ** 31 - 1, ctx.signal);
});
