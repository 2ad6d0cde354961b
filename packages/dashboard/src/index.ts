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
export { checkTls, type DashboardTls, type TlsLabels } from "./tls.js";
export { TrustedProxies } from "./trust-proxy.js";
