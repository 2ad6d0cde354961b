import { BlockList, isIP } from "node:net";
import type { Context } from "hono";
import { ConfigError } from "taskq";

/**
 * The proxies whose word on the scheme is believed (`trustProxy`): addresses and CIDRs, as
 * Express's `trust proxy`. A request's `X-Forwarded-Proto` or `Forwarded: proto=` counts only when
 * its socket's peer is one of them; from any other peer (or with no socket to see) it is ignored.
 */
export class TrustedProxies {
  readonly #list = new BlockList();
  readonly #any: boolean;

  /** Checks `list` (ConfigError whose message starts with `label`, the option or flag). */
  constructor(list: unknown, label = "trustProxy") {
    if (!Array.isArray(list))
      throw new ConfigError(
        label,
        `${label} must be a list of addresses or CIDRs, got ${JSON.stringify(list)}`,
      );
    for (const item of list) {
      const [address = "", prefix, extra] = typeof item === "string" ? item.trim().split("/") : [];
      const family = isIP(address);
      const bits = family === 4 ? 32 : 128;
      const size = prefix === undefined ? bits : /^\d{1,3}$/.test(prefix) ? Number(prefix) : -1;
      if (family === 0 || address.includes("%") || extra !== undefined || size < 0 || size > bits)
        throw new ConfigError(
          label,
          `${label} takes addresses or CIDRs such as 127.0.0.1 or 10.0.0.0/8, got ${JSON.stringify(item)}`,
        );
      this.#list.addSubnet(address, size, family === 4 ? "ipv4" : "ipv6");
    }
    this.#any = list.length > 0;
  }

  /** Whether a socket's peer address is a trusted proxy (IPv4-mapped IPv6 as its IPv4). */
  trusts(address: string | null | undefined): boolean {
    if (!this.#any || typeof address !== "string") return false;
    const family = isIP(address);
    return family !== 0 && this.#list.check(address, family === 4 ? "ipv4" : "ipv6");
  }
}

/** The scheme a proxy says the client used: `Forwarded`'s first `proto=`, else `X-Forwarded-Proto`'s first. */
function forwardedProto(c: Context): string | undefined {
  const forwarded = c.req.header("forwarded");
  if (forwarded !== undefined) {
    const first = forwarded.split(",")[0] ?? "";
    for (const pair of first.split(";")) {
      const [name, value] = pair.split("=");
      if (name?.trim().toLowerCase() === "proto") return value?.trim().replace(/^"|"$/g, "").toLowerCase();
    }
  }
  return c.req.header("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
}

/**
 * Whether the browser reached the dashboard over https: to Node itself (TLS on its socket), or
 * through a trusted proxy (`peer` one of `proxies`) that says so. Decides the cookie's `Secure`.
 */
export function cameOverHttps(c: Context, proxies: TrustedProxies, peer: string | null): boolean {
  if (new URL(c.req.url).protocol === "https:") return true;
  return proxies.trusts(peer) && forwardedProto(c) === "https";
}
