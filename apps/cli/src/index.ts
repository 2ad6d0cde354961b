export { main } from "./cli.js";
export { envDefault, loadDotEnv, SETTINGS, type SettingName } from "./config.js";
export { CliError, describeError } from "./errors.js";
export { openRuntime, openStores, type Runtime, type RuntimeConfig } from "./runtime.js";
export { formatSummary } from "./summary.js";
