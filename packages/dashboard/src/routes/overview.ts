import { readStore } from "taskq/app";
import { type History, SPAN_MS, storedHistory, WINDOW_MS } from "../history.js";
import { overviewFragment, overviewPage } from "../views/overview.js";
import type { RouteContext } from "./route-context.js";

/**
 * GET / (the overview), GET /api/overview (its live part and the charts' live samples, as JSON)
 * and GET /api/history (the last ten minutes from the store, read once when the page opens).
 */
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
  app.get("/api/history", async (c) =>
    c.json({ spanMs: SPAN_MS, windowMs: WINDOW_MS, history: await storedHistory(store) }),
  );
}
