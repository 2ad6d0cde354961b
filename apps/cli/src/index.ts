export { main } from "./cli.js";
export {
  envDefault,
  integerAtLeast,
  loadDotEnv,
  numberBetween,
  SETTINGS,
  type SettingName,
} from "./config.js";
export { CliError, describeError, failAsUsageError } from "./errors.js";
export { openRuntime, openStores, type Runtime, type RuntimeConfig } from "./runtime.js";
export { formatSummary } from "./summary.js";
