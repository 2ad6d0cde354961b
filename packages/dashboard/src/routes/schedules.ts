import { ConfigError, ScheduleNotFoundError } from "taskq";
import { DashboardHttpError } from "../http-error.js";
import { schedulesPage } from "../views/schedules.js";
import type { RouteContext } from "./route-context.js";

/** GET /schedules, POST /schedules/:name/pause and /schedules/:name/resume. */
export function scheduleRoutes(r: RouteContext): void {
  const { app, client } = r;
  app.get("/schedules", async (c) => r.render(c, schedulesPage(r.pageOf(c), await client.schedules())));
  for (const action of ["pause", "resume"] as const) {
    app.post(`/schedules/:name/${action}`, async (c) => {
      const name = c.req.param("name");
      try {
        await (action === "pause" ? client.pauseSchedule(name) : client.resumeSchedule(name));
      } catch (error) {
        if (error instanceof ScheduleNotFoundError || error instanceof ConfigError)
          throw new DashboardHttpError(404, `no schedule is called ${JSON.stringify(name.slice(0, 80))}`);
        throw error;
      }
      r.logAction(
        c,
        action,
        { schedule: name },
        `dashboard: schedule ${name} ${action === "pause" ? "paused" : "resumed"}`,
      );
      return c.redirect(r.done("/schedules", action === "pause" ? "paused" : "resumed"), 303);
    });
  }
}
