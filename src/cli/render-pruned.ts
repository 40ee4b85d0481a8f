import type { PruneResult } from "../receiver/retention.js";
import { formatDuration } from "./numbers.js";

const count = (n: number) => n.toLocaleString("en-US");

/** `pruned 1,234 deliveries older than 30d (56 kept as stubs for their activity)`, for prune and serve. */
export function describePruned(r: PruneResult, olderThanMs: number): string {
  const total = r.deleted + r.stripped;
  const what = `${count(total)} deliver${total === 1 ? "y" : "ies"} older than ${formatDuration(olderThanMs)}`;
  const stubs = r.stripped === 0 ? "" : ` (${count(r.stripped)} ${r.dryRun ? "would be " : ""}kept as stubs for their activity)`;
  return r.dryRun ? `would prune ${what}${stubs}; nothing changed (--dry-run)` : `pruned ${what}${stubs}`;
}
