// History handler: works `ms`, which the producer draws around the worker's timeoutMs, and
// stops when ctx.signal is aborted (the timeout, or a cancel): some attempts time out.
import { type HistoryCtx, type HistoryPayload, recorded, sleep } from "./record.js";

export default recorded(async (payload: HistoryPayload, ctx: HistoryCtx) => {
  await sleep(payload.ms, ctx.signal);
});
