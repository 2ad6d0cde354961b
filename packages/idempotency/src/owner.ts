import { randomUUID } from "node:crypto";
import { hostname } from "node:os";

/** A lease owner id: `host:pid:nonce`, so a restarted process on the same host can tell a dead owner. */
export function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** True when `owner` names a process on this host that no longer exists. */
export function isDeadLocalOwner(owner: string): boolean {
  const [host, pidText] = owner.split(":");
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * The owners among `owners` whose tasks `self` may put back at once: processes on this host that
 * no longer exist (never `self`). Other owners' tasks wait for their leases to expire.
 */
export function deadLocalOwners(owners: readonly string[], self: string): string[] {
  return owners.filter((owner) => owner !== self && isDeadLocalOwner(owner));
}
