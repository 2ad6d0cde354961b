export { createDashboard, type Dashboard } from "./app.js";
export { DashboardHttpError } from "./http-error.js";
export type { DashboardLogger, DashboardOptions } from "./options.js";
export {
  checkListen,
  DEFAULT_HOST,
  DEFAULT_PORT,
  isLoopback,
  type RunningDashboard,
  type StartDashboardOptions,
  startDashboard,
} from "./server.js";
