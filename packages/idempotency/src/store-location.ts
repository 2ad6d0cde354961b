// The one rule for what a store location may be: a `postgres://` or `postgresql://` URL,
// `:memory:`, or a file path. Anything else that looks like `scheme://...` (`postgress://`,
// `mysql://`, `sqlite://`) is refused before anything is opened or created: taken as a path, it
// would make a SQLite file in a surprising directory, with the URL (password and all) as its name.
import { redactUrl, userinfoOverrunsAuthority } from "./redact-url.js";

/** The forms a store location may take, as every refusal names them. */
export const STORE_LOCATION_FORMS = "a postgres:// or postgresql:// URL, :memory:, or a SQLite file path";

/**
 * Why `location` cannot name a task store, as one line starting with `label` (the password
 * masked), or undefined when it can. `openTaskStore`, `createQueue` and the CLI all ask it.
 */
export function storeLocationProblem(location: unknown, label = "store location"): string | undefined {
  if (typeof location !== "string" || location.length === 0)
    return `${label} must be ${STORE_LOCATION_FORMS}, got ${location === "" ? "an empty string" : typeof location}`;
  // a one-letter "scheme" is a Windows drive (C://...), not a URL
  const scheme = /^([a-z][a-z0-9+.-]+):\/\//i.exec(location)?.[1];
  if (scheme !== undefined && !/^postgres(ql)?$/i.test(scheme))
    return `${label}: unknown scheme "${scheme}://" in ${redactUrl(location)}: a store location is ${STORE_LOCATION_FORMS}`;
  // postgres:/..., postgres:u:pw@..., and postgres//u:pw@... (its colon lost), which as a path
  // would become directories named after the URL, password and all
  if (scheme === undefined && /^postgres(ql)?(:|\/\/)/i.test(location))
    return `${label}: ${redactUrl(location)} is not a PostgreSQL URL: it starts with postgres:// or postgresql://`;
  // a space or a control character around it: taken as a path, a URL would become a SQLite file
  // (and its directories) named after it, password and all
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters refused
  if (/^\s|\s$|[\u0000-\u001f\u007f]/.test(location))
    return `${label}: "${redactUrl(location)}" starts or ends with a space or holds a control character: a store location is ${STORE_LOCATION_FORMS}`;
  if (scheme !== undefined && userinfoOverrunsAuthority(location.slice(scheme.length + 3)))
    return `${label}: ${redactUrl(location)} has an @ after a /, ? or #: write them percent-encoded in a user name or password (/ as %2F, ? as %3F, # as %23, @ as %40), and an @ elsewhere as %40`;
  return undefined;
}
