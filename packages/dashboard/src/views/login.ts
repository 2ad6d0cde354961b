import { html } from "hono/html";
import { type Html, layout, type PageContext } from "./layout.js";

export function loginPage(p: PageContext, wrong: boolean): Html {
  return layout(
    p,
    "Sign in",
    "",
    html`${wrong ? html`<p class="error" role="alert">That is not the dashboard's token.</p>` : ""}
<form method="post" action="${p.base}/login" class="login"><input type="hidden" name="_csrf" value="${p.csrf}">
<label>Token (TASKQ_DASHBOARD_TOKEN) <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button></form>`,
  );
}
