import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** How long the link an action redirects to shows its notice: it is followed at once. */
export const NOTICE_MS = 60_000;

/** The query parameters of a notice: `done` (its code), `n` (a count), `at` and `sig`. */
export interface NoticeQuery {
  readonly done?: string | undefined;
  readonly n?: string | undefined;
  readonly at?: string | undefined;
  readonly sig?: string | undefined;
}

/**
 * The notice an action leaves on the page it redirects to comes from the action's own result:
 * the action signs its code, count, the page's path and the time with a secret of this dashboard
 * (`…?done=cancelled&at=…&sig=…`), and a page shows a notice only when that signature holds for
 * its path and is under NOTICE_MS old. A hand-made `?done=cancelled` on a task that succeeded, a
 * count changed, or a link taken to another page shows nothing.
 */
export class NoticeSigner {
  readonly #secret = randomBytes(32);
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The query (without `?`) that signs notice `done` (count `n`) for the page at `path`. */
  query(path: string, done: string, n?: number): string {
    const at = this.#now().toString(36);
    const count = n === undefined ? "" : String(n);
    const sig = this.#sign(path, done, count, at);
    return `done=${encodeURIComponent(done)}${count === "" ? "" : `&n=${count}`}&at=${at}&sig=${sig}`;
  }

  /** The code and count of the notice a request to `path` carries, when this dashboard signed it lately. */
  verify(path: string, q: NoticeQuery): { done: string; n: string | undefined } | undefined {
    const { done, n, at, sig } = q;
    if (done === undefined || at === undefined || sig === undefined || !/^[0-9a-z]{1,12}$/.test(at))
      return undefined;
    const age = this.#now() - Number.parseInt(at, 36);
    if (!(age >= 0 && age <= NOTICE_MS)) return undefined;
    const expected = Buffer.from(this.#sign(path, done, n ?? "", at));
    const given = Buffer.from(sig);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return { done, n };
  }

  #sign(path: string, done: string, n: string, at: string): string {
    return createHmac("sha256", this.#secret).update(`${path}\n${done}\n${n}\n${at}`).digest("base64url");
  }
}
