import * as params from "../params.js";
import type { RouteContext } from "./route-context.js";

/**
 * POST /kinds/:kind/pause and /kinds/:kind/resume: a kind paused or resumed across the fleet;
 * POST /kinds/:kind/reset-breaker: its open circuit breaker closed now.
 */
export function kindRoutes(r: RouteContext): void {
  const { app, client } = r;
  for (const action of ["pause", "resume"] as const) {
    app.post(`/kinds/:kind/${action}`, async (c) => {
      const kind = params.kind(c.req.param("kind")) as string;
      const changed = await (action === "pause" ? client.pauseKind(kind) : client.resumeKind(kind));
      r.logAction(c, `kind-${action}`, { kind, changed }, `dashboard: kind ${kind} ${action}d`);
      const what =
        action === "pause"
          ? changed
            ? "kind-paused"
            : "kind-was-paused"
          : changed
            ? "kind-resumed"
            : "kind-was-running";
      return c.redirect(r.done("/", what), 303);
    });
  }
  app.post("/kinds/:kind/reset-breaker", async (c) => {
    const kind = params.kind(c.req.param("kind")) as string;
    const changed = await client.resetBreaker(kind);
    r.logAction(c, "breaker-reset", { kind, changed }, `dashboard: kind ${kind} breaker reset`);
    return c.redirect(r.done("/", changed ? "breaker-reset" : "breaker-was-closed"), 303);
  });
}
