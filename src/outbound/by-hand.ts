import { UsageError } from "../errors.js";
import type { OutboxRow } from "../store/outbox-repo.js";
import type { SessionHost } from "../trackers/sessions.js";
import { type PushFlags, withSender } from "./command-sender.js";
import type { PushResult } from "./send.js";

// 'hooksync outbound retry' and 'discard': the outbox worked by hand, beside serve's schedule.

/**
 * The unsent rows (or those named), pending or given up, oldest first, whatever their schedule;
 * every push this process tried in the result, failures included.
 */
export async function runOutboundRetry(ctx: SessionHost, flags: PushFlags & { id?: number[] }): Promise<PushResult[]> {
  const store = await ctx.store();
  const { sendAll, sendRows } = await import("../outbound/send.js");
  if (!flags.id?.length) return withSender(ctx, store, flags, sendAll);
  const rows = [...new Set(flags.id)].sort((a, b) => a - b).map((id): OutboxRow => {
    const row = store.outbox.get(id);
    if (!row) throw new UsageError(`no outbox row ${id}`, "see 'hooksync outbound list'");
    if (row.state === "done") throw new UsageError(`outbox row ${id} was sent already`, "see 'hooksync outbound list'");
    return row;
  });
  return withSender(ctx, store, flags, (sender) => sendRows(sender, rows));
}

export async function runOutboundDiscard(ctx: SessionHost, ids: number[]): Promise<number[]> {
  const store = await ctx.store();
  const missing = ids.filter((id) => (store.outbox.get(id)?.state ?? "done") === "done");
  if (missing.length) throw new UsageError(`no unsent outbox row ${missing.join(", ")}`, "see 'hooksync outbound list'");
  store.inTransaction(() => ids.forEach((id) => store.outbox.discard(id)));
  return ids;
}
