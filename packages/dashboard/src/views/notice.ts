/**
 * The line an action leaves on the page it redirects to (`?done=redriven&n=3`): fixed texts
 * chosen by a code, so a link cannot make the page say anything else.
 */
export function notices(code: string | undefined, n: string | undefined): string | undefined {
  const count = n !== undefined && /^\d{1,9}$/.test(n) ? Number(n) : undefined;
  const tasks = (k: number | undefined) => `${k ?? 0} task${k === 1 ? "" : "s"}`;
  switch (code) {
    case "cancelled":
      return "Cancelled: it will not run.";
    case "requested":
      return "Cancel requested: its worker is ending it.";
    case "redriven":
      return count === 0
        ? "Nothing re-driven: the task is no longer failed (already re-driven, or purged)."
        : `Re-drove ${tasks(count)}: queued again, attempts reset.`;
    case "purged":
      return `Purged ${count ?? 0} dead letter${count === 1 ? "" : "s"} and their failed tasks.`;
    case "paused":
      return "Schedule paused: no occurrence is enqueued until it is resumed.";
    case "resumed":
      return "Schedule resumed from its next occurrence.";
    case "kind-paused":
      return "Kind paused: no worker starts its tasks from its next take; running ones finish, queued ones wait.";
    case "kind-was-paused":
      return "The kind was paused already.";
    case "kind-resumed":
      return "Kind resumed: the workers take its tasks again.";
    case "kind-was-running":
      return "The kind was not paused.";
    case "breaker-reset":
      return "Breaker closed: the workers take the kind's tasks again, and its failures are counted from zero.";
    case "breaker-was-closed":
      return "The kind's breaker was not open.";
    default:
      return undefined;
  }
}
