import type { Command } from "commander";
import type { PruneResult } from "../receiver/retention.js";
import type { Context, ContextFactory } from "./context.js";
import { duration } from "./numbers.js";
import { describePruned } from "./render-pruned.js";
import { dryRunOption, examples } from "./options.js";

export interface PruneFlags {
  olderThan: number;
  keepFailed?: boolean;
  dryRun?: boolean;
}

export async function runPrune(ctx: Context, opts: PruneFlags): Promise<PruneResult> {
  const store = await ctx.store();
  const { pruneDeliveries } = await import("../receiver/retention.js");
  return pruneDeliveries(store, { now: ctx.deps.now(), olderThanMs: opts.olderThan, keepFailed: opts.keepFailed, dryRun: opts.dryRun });
}

/** `hooksync deliveries prune`: retention by hand (serve does the same with --retain). */
export function defineDeliveriesPrune(deliveries: Command, context: ContextFactory): void {
  deliveries
    .command("prune")
    .description("delete deliveries older than a duration; those activity points at keep a stub (no body, no headers)")
    .addHelpText("after", examples("hooksync deliveries prune --older-than 30d --keep-failed", "hooksync deliveries prune --older-than 12h --dry-run"))
    .requiredOption("--older-than <duration>", "received longer ago than this: 90m, 12h, 30d", duration())
    .option("--keep-failed", "keep refused and rejected deliveries")
    .addOption(dryRunOption("count what would be pruned, change nothing"))
    .action(async (opts: PruneFlags, cmd: Command) => {
      const ctx = context(cmd);
      const result = await runPrune(ctx, opts);
      if (ctx.json) ctx.out.json(result);
      else ctx.out.text(describePruned(result, opts.olderThan));
    });
}
