import type { Context, MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";

/**
 * The headers every response of the dashboard carries, its error pages too: a CSP that allows no
 * inline script, no framing (`frame-ancestors 'none'`, `X-Frame-Options`), `nosniff`, and a
 * same-origin referrer policy.
 */
export function securityHeaders(): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
    referrerPolicy: "same-origin",
    // mounted in an https app, HSTS is that app's to decide (with includeSubDomains it would
    // bind the whole domain); startDashboard over its own TLS adds it (server.ts, HSTS)
    strictTransportSecurity: false,
  });
}

/** A response made outside the middleware (a 404 outside the dashboard's paths), given its headers. */
export async function withSecurityHeaders(
  headers: MiddlewareHandler,
  c: Context,
  response: Response,
): Promise<Response> {
  await headers(c, async () => {
    c.res = response;
  });
  return c.res;
}
