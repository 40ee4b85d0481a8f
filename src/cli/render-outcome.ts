import type { ShownChange } from "../engine/types.js";
import type { Style } from "../io/style.js";
import { PartialFailure } from "../errors.js";
import type { Delivery, Outcome, PipelineOptions } from "../pipeline/delivery.js";
import type { Context } from "./context.js";
import { noteQueued } from "./render-push.js";
import { cell } from "./safe-text.js";

export const describeChange = (c: ShownChange, s: Style): string =>
  `${s.bold(c.issue)} ${c.field} ${c.from ?? s.dim("(none)")} -> ${c.to ?? s.dim("(none)")}`;

/**
 * One line a person reads per payload; the JSON twin is the Outcome itself. Event types and
 * reasons quote the payload, so control characters are escaped: a crafted payload cannot send
 * escape codes to the terminal.
 */
export function outcomeLine(o: Outcome, s: Style): string {
  const what = [o.provider, o.event === null ? null : cell(o.event, 300)].filter(Boolean).join(" ");
  const head = `${s.dim(o.source)}${what ? ` ${what}` : ""}`;
  const reason = cell(o.reason ?? "", 300);
  switch (o.outcome) {
    case "applied":
      return `${s.green("applied ")} ${head}: ${o.changes.map((c) => describeChange(c, s)).join(", ")}${skipped(o.notes, s)}`;
    case "ignored":
      return `${s.yellow("ignored ")} ${head}: ${reason}`;
    case "rejected":
      return `${s.red("rejected")} ${head}: ${reason}`;
  }
}

/**
 * What an applied payload left out and why (an assignee who is not a member, a field not synced):
 * said on the line itself, so a person sees the skipped part without asking for --json.
 */
function skipped(notes: string[], s: Style): string {
  if (notes.length === 0) return "";
  return s.yellow(` (skipped: ${notes.map((n) => cell(n, 300)).join("; ")})`);
}

export interface Totals {
  applied: number;
  ignored: number;
  rejected: number;
  changes: number;
}

export const emptyTotals = (): Totals => ({ applied: 0, ignored: 0, rejected: 0, changes: 0 });

export function count(t: Totals, o: Outcome): void {
  t[o.outcome]++;
  t.changes += o.changes.length;
}

/** JSON line of cli.md: the fixed keys, plus notes beside them. */
export const outcomeJson = (o: Outcome) => JSON.stringify(o);

/**
 * One payload through the pipeline (replay --delivery, simulate), printed as replay prints it;
 * a rejection fails the command.
 */
export async function reportOne(ctx: Context, delivery: Delivery, opts: PipelineOptions): Promise<Outcome> {
  const { runOne } = await import("../pipeline/run-one.js");
  const store = await ctx.store();
  const unsentBefore = await store.outbox.unsentCount();
  const outcome = await runOne(store, ctx.deps, delivery, opts, (line) => ctx.out.verbose(line));
  if (ctx.json) ctx.deps.io.stdout.write(`${outcomeJson(outcome)}\n`);
  else if (!ctx.opts.quiet) ctx.out.text(outcomeLine(outcome, ctx.style));
  if (opts.dryRun) ctx.out.info("dry run, nothing written");
  await noteQueued(ctx, store, unsentBefore);
  if (outcome.outcome === "rejected") throw new PartialFailure("the payload was rejected", "its reason is above");
  return outcome;
}
