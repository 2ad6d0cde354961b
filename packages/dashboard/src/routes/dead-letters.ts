import { MAX_REDRIVE } from "@taskq/idempotency";
import * as params from "../params.js";
import { deadLettersPage } from "../views/dead-letters.js";
import { formOf, type RouteContext } from "./route-context.js";

/** GET /dead-letters (keyset pages, by kind), POST /dead-letters/redrive and /dead-letters/purge. */
export function deadLetterRoutes(r: RouteContext): void {
  const { app, store } = r;

  app.get("/dead-letters", async (c) => {
    const limitRaw = c.req.query("limit");
    const limit = params.pageSize(limitRaw, r.options.pageSize);
    const kind = params.kind(c.req.query("kind"));
    const beforeSeq = params.positiveInteger("before", c.req.query("before"));
    const [kinds, letters] = await Promise.all([
      store.kinds(),
      store.listDeadLetters({
        limit,
        ...(kind === undefined ? {} : { kind }),
        ...(beforeSeq === undefined ? {} : { beforeSeq }),
      }),
    ]);
    const next = letters.length === limit ? letters.at(-1)?.seq : undefined;
    const filter = { kind, limit: limitRaw ? limit : undefined };
    return r.render(c, deadLettersPage(r.pageOf(c), filter, kinds, letters, next));
  });

  app.post("/dead-letters/redrive", async (c) => {
    const seqs = params.seqs((await formOf(c)).seq, MAX_REDRIVE);
    const count = await store.redriveTasks(seqs);
    r.logAction(
      c,
      "redrive",
      { seqs, redriven: count },
      `dashboard: re-drove ${count} of ${seqs.length} task(s)`,
    );
    return c.redirect(
      r.done(seqs.length === 1 ? `/tasks/${seqs[0]}` : "/dead-letters", "redriven", count),
      303,
    );
  });

  app.post("/dead-letters/purge", async (c) => {
    const hours = params.hours("olderThanHours", (await formOf(c)).olderThanHours);
    const purged = await store.purgeDeadLetters(Math.round(hours * 3_600_000));
    r.logAction(
      c,
      "purge",
      { olderThanHours: hours, purged },
      `dashboard: purged ${purged} dead letter(s) older than ${hours} h`,
    );
    return c.redirect(r.done("/dead-letters", "purged", purged), 303);
  });
}
