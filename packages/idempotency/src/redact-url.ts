// Masks the password of a store location: the only form of a URL taskq ever prints. Free of `pg`,
// so the CLI, the front door and the SQLite store use it without loading the PostgreSQL driver.

/**
 * The location with its password replaced by `***` (in the user part and in a `password=` query
 * parameter); a location without one (a file path, `:memory:`) comes back as it is.
 */
export function redactUrl(url: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed?.host) {
    if (!parsed.password && !parsed.searchParams.has("password")) return url;
    if (parsed.password) parsed.password = "***";
    if (parsed.searchParams.has("password")) parsed.searchParams.set("password", "***");
    return parsed.toString().replace(/([?&]password=)%2A%2A%2A/, "$1***");
  }
  // not a URL with a host (unparsable, or `scheme:/user:pw@host`): mask from the user name's
  // colon to the last @, since a password may hold an @ of its own
  return url
    .replace(/^((?:[a-z][a-z0-9+.-]*:)?\/*[^:/@\s]*):.*@/i, "$1:***@")
    .replace(/([?&]password=)[^&]*/i, "$1***");
}
