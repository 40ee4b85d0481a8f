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
  const rows: OutboxRow[] = [];
  for (const id of [...new Set(flags.id)].sort((a, b) => a - b)) {
    const row = await store.outbox.get(id);
    if (!row) throw new UsageError(`no outbox row ${id}`, "see 'hooksync outbound list'");
    if (row.state === "done") throw new UsageError(`outbox row ${id} was sent already`, "see 'hooksync outbound list'");
    rows.push(row);
  }
  return withSender(ctx, store, flags, (sender) => sendRows(sender, rows));
}

export async function runOutboundDiscard(ctx: SessionHost, ids: number[]): Promise<number[]> {
  const store = await ctx.store();
  const missing: number[] = [];
  for (const id of ids) if (((await store.outbox.get(id))?.state ?? "done") === "done") missing.push(id);
  if (missing.length) throw new UsageError(`no unsent outbox row ${missing.join(", ")}`, "see 'hooksync outbound list'");
  await store.inTransaction(async (tx) => {
    for (const id of ids) await tx.outbox.discard(id);
  });
  return ids;
}
