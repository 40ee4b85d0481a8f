import type { Command } from "commander";
import { table } from "../io/style.js";
import type { ActivityView } from "../store/views.js";
import type { Context, ContextFactory } from "./context.js";
import { UsageError } from "../errors.js";
import { wholeNumber } from "./numbers.js";
import { examples } from "./options.js";

export async function runActivity(ctx: Context, opts: { issue?: string; limit?: number }): Promise<ActivityView[]> {
  const store = await ctx.store();
  if (opts.issue && (await store.links.issueId(opts.issue)) === undefined) {
    throw new UsageError(`no issue ${opts.issue}`, "see 'hooksync issue list'");
  }
  return store.views.activity(opts);
}

export function describeActivity(a: Pick<ActivityView, "kind" | "from" | "to">): string {
  switch (a.kind) {
    case "assigned":
      return a.from ? `assigned ${a.from} -> ${a.to}` : `assigned to ${a.to}`;
    case "unassigned":
      return `unassigned ${a.from ?? ""}`.trim();
    default:
      return a.kind;
  }
}

function render(ctx: Context, rows: ActivityView[]): void {
  if (rows.length === 0) return ctx.out.text("no activity yet");
  const s = ctx.style;
  ctx.out.text(
    table(
      rows.map((a) => [s.dim(a.at), s.bold(a.issue), describeActivity(a), a.source, a.delivery === null ? s.dim("-") : String(a.delivery)]),
      ["AT", "ISSUE", "CHANGE", "SOURCE", "DELIVERY"],
      s,
    ),
  );
}


export function defineActivity(program: Command, context: ContextFactory): void {
  program
    .command("activity")
    .description("the activity log, newest last")
    .addHelpText("after", examples("hooksync activity --issue BACKEND-1", "hooksync activity --limit 20 --json"))
    .option("--issue <id>", "only this issue (BACKEND-1)")
    .option("--limit <n>", "only the newest n entries", wholeNumber(1))
    .action(async (opts: { issue?: string; limit?: number }, cmd: Command) => {
      const ctx = context(cmd);
      const rows = await runActivity(ctx, opts);
      if (ctx.json) ctx.out.json(rows);
      else render(ctx, rows);
    });
}
