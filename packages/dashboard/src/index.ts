export { createDashboard, type Dashboard } from "./app.js";
export { DashboardHttpError } from "./http-error.js";
export { isLoopback } from "./loopback.js";
export type { DashboardLogger, DashboardOptions } from "./options.js";
export {
  checkListen,
  DEFAULT_HOST,
  DEFAULT_PORT,
  type RunningDashboard,
  type StartDashboardOptions,
  startDashboard,
} from "./server.js";
