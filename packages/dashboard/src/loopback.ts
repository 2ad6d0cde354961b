import { isIP } from "node:net";

/** Whether only this machine can reach an address (an IPv4-mapped IPv6 one, `::ffff:127.0.0.1`, too). */
export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  const v4 = host.replace(/^(?:\[)?::ffff:(\d+\.\d+\.\d+\.\d+)(?:\])?$/i, "$1");
  if (isIP(v4) === 4) return v4.startsWith("127.");
  return host === "::1" || host === "[::1]";
}
