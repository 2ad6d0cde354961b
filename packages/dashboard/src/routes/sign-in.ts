import { deleteCookie, setCookie } from "hono/cookie";
import { CSRF_FIELD, SESSION_COOKIE, SESSION_MS } from "../auth.js";
import { DashboardHttpError } from "../http-error.js";
import { loginPage } from "../views/login.js";
import { formOf, type RouteContext } from "./route-context.js";

/** GET and POST /login (open to all: the token is what they check), and POST /logout. */
export function signInRoutes(r: RouteContext): void {
  const { app, guard, base } = r;

  app.get("/login", (c) =>
    guard.protected && guard.access(r.sessionOf(c), c.req.header("authorization")) !== "session"
      ? r.render(c, loginPage(r.pageOf(c), false))
      : c.redirect(base || "/", 302),
  );

  app.post("/login", async (c) => {
    const body = await formOf(c);
    if (!guard.csrfValid(body[CSRF_FIELD], undefined))
      throw new DashboardHttpError(403, "the form's CSRF token is missing or wrong: reload the page");
    const session = typeof body.token === "string" ? guard.login(body.token) : undefined;
    if (session === undefined) {
      r.logAction(c, "login", { ok: false }, "dashboard: a sign-in with a wrong token was refused");
      return r.render(c, loginPage(r.pageOf(c), true), 401);
    }
    setCookie(c, SESSION_COOKIE, session, {
      path: base || "/",
      httpOnly: true,
      sameSite: "Strict",
      secure: new URL(c.req.url).protocol === "https:",
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
    deleteCookie(c, SESSION_COOKIE, { path: r.base || "/" });
    return c.redirect(`${r.base}/login`, 303);
  });
}
