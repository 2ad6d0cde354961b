// History handler: works `ms` and succeeds, whatever its signal says (a cancel that comes too
// late: the task had finished, and succeeded it stays).
import { type HistoryCtx, type HistoryPayload, recorded, sleep } from "./record.js";

export default recorded(async (payload: HistoryPayload, _ctx: HistoryCtx) => {
  await sleep(payload.ms);
});
