import { ConfigError } from "taskq";
import { DashboardHttpError } from "../http-error.js";
import type { RouteContext } from "./route-context.js";

/** POST /kinds/:kind/pause and /kinds/:kind/resume: a kind paused or resumed across the fleet. */
export function kindRoutes(r: RouteContext): void {
  const { app, client } = r;
  for (const action of ["pause", "resume"] as const) {
    app.post(`/kinds/:kind/${action}`, async (c) => {
      const kind = c.req.param("kind");
      let changed: boolean;
      try {
        changed = await (action === "pause" ? client.pauseKind(kind) : client.resumeKind(kind));
      } catch (error) {
        if (error instanceof ConfigError)
          throw new DashboardHttpError(400, `not a kind: ${JSON.stringify(kind.slice(0, 80))}`);
        throw error;
      }
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
}
