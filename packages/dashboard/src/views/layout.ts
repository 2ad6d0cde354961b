import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** What every page needs to link and post. */
export interface PageContext {
  readonly base: string;
  readonly csrf: string;
  /** Where the store is, without a password. */
  readonly location: string;
  readonly signedIn: boolean;
  /** What the last action did (views/notice.ts), shown once at the top. */
  readonly notice?: string | undefined;
}

const NAV = [
  ["/", "Overview"],
  ["/tasks", "Tasks"],
  ["/dead-letters", "Dead letters"],
  ["/schedules", "Schedules"],
] as const;

/** A form that POSTs an action, carrying the CSRF token. */
export function actionForm(
  p: PageContext,
  path: string,
  label: string,
  fields: Html | string = "",
  cls = "",
): Html {
  return html`<form method="post" action="${p.base}${path}" class="inline ${cls}">
<input type="hidden" name="_csrf" value="${p.csrf}">${fields}<button type="submit">${label}</button></form>`;
}

export function layout(
  p: PageContext,
  title: string,
  active: string,
  body: Html,
  scripts: Html | string = "",
): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · taskq</title>
<link rel="stylesheet" href="${p.base}/assets/dashboard.css"></head>
<body><header><a class="brand" href="${p.base || "/"}">taskq</a><nav>${NAV.map(
    ([path, label]) =>
      html`<a href="${path === "/" ? p.base || "/" : `${p.base}${path}`}" class="${path === active ? "active" : ""}">${label}</a>`,
  )}</nav>
<form method="get" action="${p.base}/tasks" class="search"><input type="search" name="q" placeholder="task id, key or seq" aria-label="find a task"><button type="submit">Find</button></form>
${p.location === "" ? "" : html`<span class="store" title="the store">${p.location}</span>`}${
  p.signedIn ? actionForm(p, "/logout", "Sign out") : ""
}</header>
<main>${p.notice === undefined ? "" : html`<p class="notice" role="status">${p.notice}</p>`}<h1>${title}</h1>${body}</main>${scripts}
<script src="${p.base}/assets/dashboard.js"></script></body></html>`;
}

/**
 * A 4xx or 5xx page: one line, and nothing of the store (no location: whoever was refused, a DNS
 * rebinding page among them, learns nothing of where it is). A CSRF token only for the sign-out.
 */
export function errorPage(p: PageContext, status: number, message: string): Html {
  return layout(
    { ...p, location: "", csrf: p.signedIn ? p.csrf : "" },
    status === 404 ? "Not found" : "Cannot do that",
    "",
    html`<p class="error" role="alert">${message}</p>`,
  );
}
