import { readStore } from "taskq/app";
import type { History } from "../history.js";
import { overviewFragment, overviewPage } from "../views/overview.js";
import type { RouteContext } from "./route-context.js";

/** GET / (the overview) and GET /api/overview (its live part and the charts' samples, as JSON). */
export function overviewRoutes(r: RouteContext, history: History): void {
  const { app, store } = r;
  const cap = r.options.countCap;
  app.get("/", async (c) => r.render(c, overviewPage(r.pageOf(c), await readStore(store, { cap }))));
  app.get("/api/overview", async (c) => {
    const points = history.points();
    const data = await readStore(store, { cap });
    return c.json({
      now: data.now,
      html: String(await overviewFragment(r.pageOf(c), data)),
      history: points,
      historyError: history.error ?? null,
    });
  });
}
