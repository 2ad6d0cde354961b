// `taskq/app`: what the taskq command line and taskq-bench share, beyond the library's front door:
// the runtime of the built-in task types, settings from flags, the environment and .env, and
// one-line errors with exit codes.

/** A store location as it may be printed: its password masked. */
export { redactUrl } from "@taskq/idempotency";
export { CliError, describeError, failAsUsageError } from "./app-errors.js";
export { DEFAULT_RETENTION_MS, type Retention, type RetentionOptions, startRetention } from "./retention.js";
export {
  openExistingStore,
  openRuntime,
  openStores,
  type Runtime,
  type RuntimeConfig,
  withExistingStore,
} from "./runtime.js";
export {
  envDefault,
  integerAtLeast,
  integerRule,
  loadDotEnv,
  numberBetween,
  numberRule,
  SETTINGS,
  type SettingName,
  type SettingRule,
} from "./settings.js";
export { checkStoreLocation, ensureStoreDirectory } from "./store-location.js";

import { payloadPreparer } from "./handler-runtime.js";
import { stableKey } from "./stable-key.js";

/** Shapes a handler's payload as the runtime does (plain JSON data, keyed by its hash): for `taskq submit --raw`. */
export const prepareHandlerPayload = payloadPreparer(stableKey);
