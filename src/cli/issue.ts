import type { Command } from "commander";
import { table } from "../io/style.js";
import type { IssueView } from "../store/views.js";
import type { Context, ContextFactory } from "./context.js";
import { shortId } from "./short-id.js";
import { examples } from "./options.js";

export async function runIssueList(ctx: Context, opts: { project?: string }): Promise<IssueView[]> {
  const store = await ctx.store();
  return store.views.issues(opts);
}

function render(ctx: Context, issues: IssueView[]): void {
  const s = ctx.style;
  if (issues.length === 0) return ctx.out.text("no issues (import some with 'hooksync import <file>')");
  const rows = issues.map((i) => [
    s.bold(i.id),
    i.status === "resolved" ? s.green("resolved") : s.yellow("unresolved"),
    i.assignee ?? s.dim("-"),
    i.links.map((l) => `${shortId(l.integration)}:${l.externalKey}`).join(" ") || s.dim("-"),
    i.title,
  ]);
  ctx.out.text(table(rows, ["ISSUE", "STATUS", "ASSIGNEE", "LINKS", "TITLE"], s));
}

export function defineIssue(program: Command, context: ContextFactory): void {
  const issue = program.command("issue").description("local issues")
      .addHelpText("after", examples("hooksync issue list"));
  issue
    .command("list")
    .description("list local issues with status, assignee and links")
    .addHelpText("after", examples("hooksync issue list --project backend", "hooksync issue list --json"))
    .option("--project <slug>", "only this project")
    .action(async (opts: { project?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const issues = await runIssueList(ctx, opts);
      if (ctx.json) ctx.out.json(issues);
      else render(ctx, issues);
    });
}
