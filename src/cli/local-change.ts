import type { Command } from "commander";
import type { LocalChange } from "../engine/local.js";
import { type ShownChange, shownChange } from "../engine/types.js";
import { PartialFailure, RejectedInputError, UsageError } from "../errors.js";
import type { OutboxRow } from "../store/outbox-repo.js";
import type { Context, ContextFactory } from "./context.js";
import { describeChange } from "./render-outcome.js";
import type { PushResult } from "../outbound/send.js";
import { type PushFlags, addPushOptions, renderPushes, withSender } from "./push.js";

export interface LocalFlags extends PushFlags {
  /** Exit 1 when a push failed (it stays queued either way). */
  strict?: boolean;
}

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
export async function runLocalChange(ctx: Context, key: string, change: LocalChange, flags: LocalFlags): Promise<LocalReport> {
  const store = await ctx.store();
  const { applyLocal } = await import("../engine/local.js");
  const at = ctx.deps.now().toISOString();
  const { result, queued } = store.inTransaction(() => {
    const result = applyLocal(store.sync, key, change, at);
    const queued = result && result.changes.length > 0 ? store.outbox.enqueue(result.changes, { integrationId: null, via: "cli", at }) : [];
    return { result, queued };
  });
  if (!result) throw new UsageError(`no issue ${key}`, "see 'hooksync issue list'");
  if (result.refused) throw new RejectedInputError(result.refused, "only a verified user who is a member of the issue's project can be assigned ('hooksync import' adds members)");
  for (const note of result.notes) ctx.out.info(`${note}: nothing to change`);
  const rows = queued.map((id) => store.outbox.get(id)).filter((r): r is OutboxRow => r !== undefined);
  const changes = result.changes.map(shownChange);
  if (rows.length === 0) return { issue: key, changes, pushes: [] };
  const { sendRows } = await import("../outbound/send.js");
  return { issue: key, changes, pushes: await withSender(ctx, store, flags, (sender) => sendRows(sender, rows)) };
}

function render(ctx: Context, report: LocalReport, strict: boolean | undefined): void {
  if (ctx.json) ctx.out.json(report);
  else {
    const s = ctx.style;
    for (const c of report.changes) ctx.out.text(describeChange(c, s));
  }
  renderPushes(ctx, ctx.json ? report.pushes.filter((p) => !p.ok) : report.pushes);
  const failed = report.pushes.filter((p) => !p.ok).length;
  if (strict && failed > 0) throw new PartialFailure(`${failed} of ${report.pushes.length} pushes failed`, "they stay queued for 'hooksync outbound retry'");
}

/** One local-change command: `<issue>` plus what the change needs, the push flags, --strict. */
export function defineLocalChange(
  program: Command,
  context: ContextFactory,
  o: { name: string; description: string; args?: [string, string][]; change: (args: string[]) => LocalChange },
): void {
  const cmd = program.command(o.name).description(o.description).argument("<issue>", "the local issue (BACKEND-1)");
  for (const [name, description] of o.args ?? []) cmd.argument(name, description);
  addPushOptions(cmd.option("--strict", "exit 1 when a push to a tracker failed (it stays queued either way)")).action(async (...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    const flags = params[params.length - 2] as LocalFlags;
    const args = params.slice(0, -2) as string[];
    const ctx = context(command);
    render(ctx, await runLocalChange(ctx, args[0]!, o.change(args.slice(1)), flags), flags.strict);
  });
}
