/**
 * The clients a proxy names for a request, every hop: each address of `X-Forwarded-For`, each
 * `for=` of `Forwarded` (RFC 7239: quoted, bracketed, with a port, or `unknown`/`_hidden`), and
 * `X-Real-IP`; ports and brackets taken off. Empty when no proxy said anything. Read whoever sent
 * them: the dashboard without a token uses them to refuse, never to let in.
 */
export function forwardedClients(headers: Headers): string[] {
  const named: string[] = [];
  for (const hop of (headers.get("x-forwarded-for") ?? "").split(",")) named.push(hop);
  for (const element of (headers.get("forwarded") ?? "").split(","))
    for (const pair of element.split(";")) {
      const [key, ...value] = pair.split("=");
      if (key?.trim().toLowerCase() === "for") named.push(value.join("="));
    }
  named.push(headers.get("x-real-ip") ?? "");
  return named.map(addressOf).filter((address) => address !== "");
}

/** `"[2001:db8::1]:4711"` → `2001:db8::1`, `192.0.2.1:80` → `192.0.2.1`; anything else as sent. */
function addressOf(raw: string): string {
  const value = raw.trim().replace(/^"(.*)"$/, "$1");
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(value);
  if (bracketed) return bracketed[1] ?? "";
  const v4WithPort = /^(\d+\.\d+\.\d+\.\d+):\d*$/.exec(value);
  return v4WithPort ? (v4WithPort[1] ?? "") : value;
}
