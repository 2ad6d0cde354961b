import { deleteCookie, setCookie } from "hono/cookie";
import { refusalFields, tooManyAttempts } from "../attempt-limit.js";
import { CSRF_FIELD, SESSION_COOKIE, SESSION_MS } from "../auth.js";
import { DashboardHttpError } from "../http-error.js";
import { clientOf, remoteOf } from "../middleware.js";
import { cameOverHttps } from "../trust-proxy.js";
import { loginPage } from "../views/login.js";
import { formOf, type RouteContext } from "./route-context.js";

/** GET and POST /login (open to all: the token is what they check), and POST /logout. */
export function signInRoutes(r: RouteContext): void {
  const { app, guard, base } = r;

  app.get("/login", (c) =>
    guard.protected && !guard.signedIn(r.sessionOf(c))
      ? r.render(c, loginPage(r.pageOf(c), false))
      : c.redirect(base || "/", 302),
  );

  app.post("/login", async (c) => {
    const body = await formOf(c);
    if (!guard.csrfValid(body[CSRF_FIELD], undefined))
      throw new DashboardHttpError(403, "the form's CSRF token is missing or wrong: reload the page");
    // every try counts against the limit on token attempts; a locked-out client's is not read
    const result = guard.login(
      typeof body.token === "string" ? body.token : "",
      clientOf(c, r.options.trustProxy),
    );
    if (!("session" in result)) {
      if (result.limited) throw tooManyAttempts(c, result.waitMs);
      r.logAction(c, "login", refusalFields(result), "dashboard: a sign-in with a wrong token was refused");
      return r.render(c, loginPage(r.pageOf(c), true), 401);
    }
    setCookie(c, SESSION_COOKIE, result.session, {
      path: base || "/",
      httpOnly: true,
      sameSite: "Strict",
      // over TLS to this process, or through a proxy named in trustProxy that says https
      secure: cameOverHttps(c, r.options.trustProxy, remoteOf(c).remote),
      maxAge: SESSION_MS / 1000,
    });
    r.logAction(c, "login", { ok: true }, "dashboard: signed in");
    return c.redirect(base || "/", 303);
  });
}

/** POST /logout: behind the guard (a signed-in session's CSRF token). */
export function signOutRoute(r: RouteContext): void {
  r.app.post("/logout", (c) => {
    r.guard.logout(r.sessionOf(c));
    deleteCookie(c, SESSION_COOKIE, {
      path: r.base || "/",
      secure: cameOverHttps(c, r.options.trustProxy, remoteOf(c).remote),
    });
    return c.redirect(`${r.base}/login`, 303);
  });
}
