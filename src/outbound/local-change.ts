import type { LocalChange } from "../engine/local.js";
import { type ShownChange, shownChange } from "../engine/types.js";
import { RejectedInputError, UsageError } from "../errors.js";
import type { OutboxRow } from "../store/outbox-repo.js";
import type { SessionHost } from "../trackers/sessions.js";
import { type PushFlags, withSender } from "./command-sender.js";
import type { PushResult } from "./send.js";

/** `--json`: the local changes and what became of each push. */
export interface LocalReport {
  issue: string;
  changes: ShownChange[];
  pushes: PushResult[];
}

/**
 * Rule 7.1: the change and its pushes queued in one transaction, then, after commit, each push
 * sent. The local change stands whatever the trackers answer; a failed push stays queued (7.3).
 */
export async function runLocalChange(ctx: SessionHost, key: string, change: LocalChange, flags: PushFlags): Promise<LocalReport> {
  const store = await ctx.store();
  const { applyLocal } = await import("../engine/local.js");
  const at = ctx.deps.now().toISOString();
  const { result, queued } = await store.inTransaction(async (tx) => {
    const result = await applyLocal(tx.sync, key, change, at);
    const queued = result && result.changes.length > 0 ? await tx.outbox.enqueue(result.changes, { integrationId: null, via: "cli", at }) : [];
    return { result, queued };
  });
  if (!result) throw new UsageError(`no issue ${key}`, "see 'hooksync issue list'");
  if (result.refused) throw new RejectedInputError(result.refused, "only a verified user who is a member of the issue's project can be assigned ('hooksync import' adds members)");
  for (const note of result.notes) ctx.out.info(`${note}: nothing to change`);
  const rows: OutboxRow[] = [];
  for (const id of queued) {
    const row = await store.outbox.get(id);
    if (row) rows.push(row);
  }
  const changes = result.changes.map(shownChange);
  if (rows.length === 0) return { issue: key, changes, pushes: [] };
  const { sendRows } = await import("../outbound/send.js");
  return { issue: key, changes, pushes: await withSender(ctx, store, flags, (sender) => sendRows(sender, rows)) };
}
