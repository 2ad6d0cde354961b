// Masks the password of a store location: the only form of a URL taskq ever prints. Free of `pg`,
// so the CLI, the front door and the SQLite store use it without loading the PostgreSQL driver.
//
// It reads the text as typed, not as a URL parser would: `postgres://taskq:2024/Secret@host/db`
// (a password with an unencoded `/`, `?` or `#`, its first characters digits) parses as the host
// `taskq`, the port 2024 and the path `/Secret@host/db`, with no password to mask. Here, as its
// writer meant it, everything between `://` and the last `@` is the user and the password.

/** A query parameter that holds a secret: `password`, `sslpassword`, `passfile`... */
const SECRET_PARAMETER = /([?&;#][^=&#?;]*pass[^=&#?;]*=)([^&;]*)/gi;

/** Where a URL's authority ends; what comes after it may not be in a user name either. */
const AUTHORITY_END = /[/?#\\]/;

/**
 * Whether a URL's text after `scheme://` has an @ after the end of its authority: a user name or
 * password with an unencoded `/`, `?` or `#` (a parser reads a host, a port and a path in it), or
 * an @ in the path or the query. What such a URL means cannot be told.
 */
export function userinfoOverrunsAuthority(rest: string): boolean {
  const at = rest.lastIndexOf("@");
  return at >= 0 && AUTHORITY_END.test(rest.slice(0, at));
}

/** A location as it may be shown, and the parts of it that were masked (each one non-empty). */
interface Redaction {
  readonly shown: string;
  readonly hidden: readonly string[];
  /** The user and password hold characters that end a URL's authority: a parser misreads them. */
  readonly malformed: boolean;
}

function redact(location: string): Redaction {
  const hidden: string[] = [];
  let malformed = false;
  let shown = location;
  const url = /^(\s*[a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(location);
  if (url) {
    // scheme://userinfo@rest: the userinfo runs to the last @, whatever it holds
    const [, scheme, rest] = url as unknown as [string, string, string];
    const at = rest.lastIndexOf("@");
    if (at >= 0) {
      const userinfo = rest.slice(0, at);
      const colon = userinfo.indexOf(":");
      const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
      malformed = userinfoOverrunsAuthority(rest);
      if (AUTHORITY_END.test(user)) {
        // no user name to show: `h/db?x=a@b`, `u/pw@h`
        hidden.push(userinfo);
        shown = `${scheme}***@${rest.slice(at + 1)}`;
      } else if (colon >= 0) {
        hidden.push(userinfo.slice(colon + 1));
        shown = `${scheme}${user}:***@${rest.slice(at + 1)}`;
      }
    }
  } else {
    // no authority (a file path, `:memory:`, `postgres:/u:pw@h/db`, `user:pw@host`): masked from
    // the user name's colon to the last @, a path being left as it is
    const userinfo = /^((?:[a-z][a-z0-9+.-]*:)?\/*[^:/@\s]*):(.*)@/is.exec(location);
    const colon = location.indexOf(":");
    const at = location.lastIndexOf("@");
    if (userinfo) {
      hidden.push(userinfo[2] as string);
      shown = `${userinfo[1]}:***@${location.slice(userinfo[0].length)}`;
      malformed = true;
    } else if (colon >= 0 && colon < at) {
      // anything else with a colon before an @ (`postgres//u:pw@h/db`): from that colon on
      hidden.push(location.slice(colon + 1, at));
      shown = `${location.slice(0, colon)}:***${location.slice(at)}`;
      malformed = true;
    }
  }
  shown = shown.replace(SECRET_PARAMETER, (_, name: string, value: string) => {
    hidden.push(value);
    return `${name}***`;
  });
  // one line, whatever was typed: a control character is shown escaped
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters escaped
  shown = shown.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
  return { shown, hidden: hidden.filter((part) => part.length > 0), malformed };
}

/**
 * The location with its password replaced by `***` (in the user part, and in a `password=`,
 * `sslpassword=`... query parameter), for any string: a URL that does not parse too. Everything
 * between `scheme://` and the last `@` is the user and password as typed (`***@` when the user
 * cannot be told apart); a location without one (a file path, `:memory:`) comes back as it is,
 * a control character escaped.
 */
export function redactUrl(url: string): string {
  return redact(url).shown;
}

/**
 * `text` (a message of the driver's, of the server's or of Node's about `location`) without
 * `location`'s password: the location as redactUrl shows it, and each masked part `***`. A
 * malformed URL is read otherwise by the driver (its password in a database or host name, a
 * file to read), so each piece of its password between the URL's delimiters goes too.
 */
export function redactLocationIn(text: string, location: string): string {
  if (location.length === 0) return text;
  const { shown, hidden, malformed } = redact(location);
  const secrets = new Set<string>();
  for (const part of hidden) {
    const forms = [part, decoded(part)];
    if (malformed) forms.push(...forms.flatMap((form) => form.split(/[/?#@:&=;\\\s]+/)));
    for (const form of forms) if (form.length >= 3) secrets.add(form);
  }
  let out = text.split(location).join(shown);
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join("***");
  return out;
}

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
