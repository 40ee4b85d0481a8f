import type { Command } from "commander";
import { table } from "../io/style.js";
import type { DeliveryView } from "../store/deliveries-repo.js";
import type { Context, ContextFactory } from "./context.js";
import { defineDeliveriesPrune } from "./deliveries-prune.js";
import { wholeNumber } from "./numbers.js";
import { oneLine } from "./safe-text.js";
import { examples } from "./options.js";

export interface DeliveriesOptions {
  failed?: boolean;
  pending?: boolean;
  limit?: number;
}

export async function runDeliveries(ctx: Context, opts: DeliveriesOptions): Promise<DeliveryView[]> {
  const store = await ctx.store();
  return store.deliveries.list(opts);
}

function render(ctx: Context, rows: DeliveryView[], opts: DeliveriesOptions): void {
  if (rows.length === 0) {
    return ctx.out.text(opts.failed ? "no failed deliveries" : opts.pending ? "no pending deliveries" : "no deliveries yet (they are recorded by 'hooksync serve')");
  }
  const s = ctx.style;
  const outcome = (o: DeliveryView["outcome"]) => (o === "applied" ? s.green : o === "ignored" || o === "pending" ? s.yellow : s.red)(o);
  ctx.out.text(
    table(
      rows.map((d) => [
        String(d.id),
        s.dim(d.receivedAt),
        d.provider ?? s.dim("-"),
        d.integration ?? s.dim("-"),
        d.verdict === null ? s.dim("-") : String(d.verdict),
        // A stub kept for its activity: listed, but its body and headers are gone.
        d.prunedAt ? `${outcome(d.outcome)} ${s.dim("(pruned)")}` : outcome(d.outcome),
        d.outcome === "applied" ? d.changes.map((c) => `${c.issue} ${c.field} -> ${c.to ?? "(none)"}`).join(", ") : oneLine(d.reason ?? ""),
      ]),
      ["ID", "RECEIVED", "PROVIDER", "INTEGRATION", "VERDICT", "OUTCOME", "REASON / CHANGES"],
      s,
    ),
  );
}

export function defineDeliveries(program: Command, context: ContextFactory): void {
  const deliveries = program
    .command("deliveries")
    .description("the delivery log of 'hooksync serve', newest last")
    .addHelpText("after", examples("hooksync deliveries --failed", "hooksync deliveries --pending --json", "hooksync deliveries prune --older-than 30d"))
    .option("--failed", "only deliveries that were refused or rejected")
    .option("--pending", "only deliveries kept for later (answered 202), with why they wait; serve applies them itself")
    .option("--limit <n>", "only the newest n deliveries", wholeNumber(1))
    .action(async (opts: DeliveriesOptions, cmd: Command) => {
      const ctx = context(cmd);
      const rows = await runDeliveries(ctx, opts);
      if (ctx.json) ctx.out.json(rows);
      else render(ctx, rows, opts);
    });
  defineDeliveriesPrune(deliveries, context);
}
