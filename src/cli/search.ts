import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { table } from "../io/style.js";
import type { ExternalIssue } from "../providers/types.js";
import type { Context, ContextFactory } from "./context.js";
import { cell } from "./safe-text.js";
import { type HttpFlags, type VstsFlags, withJira, withVsts } from "../trackers/sessions.js";
import { addHttpOptions, addVstsTokenOptions, onlyIntegrationOption, examples } from "./options.js";

/** The words to search for as one text; nothing to search for is a usage error, never "everything". */
function searchText(words: string[]): string {
  const text = words.join(" ").trim();
  if (!text) throw new UsageError("nothing to search for", "give a work item id, an issue key or some words");
  return text;
}

export async function searchVsts(ctx: Context, opts: VstsFlags, words: string[]): Promise<ExternalIssue[]> {
  const text = searchText(words);
  const { findWorkItems } = await import("../providers/vsts/issues.js");
  return withVsts(ctx, opts, ({ client }) => findWorkItems(client, text, (line) => ctx.out.info(`note: ${line}`)), "work items");
}

export async function searchJira(ctx: Context, opts: HttpFlags & { integration?: string }, words: string[]): Promise<ExternalIssue[]> {
  const text = searchText(words);
  const { findJiraIssues } = await import("../providers/jira/issues.js");
  return withJira(ctx, opts, ({ client }) => findJiraIssues(client, text));
}

/** One row per issue, or a line on stderr when none matched (stdout stays empty for scripts). */
function render(ctx: Context, issues: ExternalIssue[], none: string): void {
  if (ctx.json) return ctx.out.json(issues);
  if (issues.length === 0) return ctx.out.info(none);
  const s = ctx.style;
  const rows = issues.map((i) => [s.bold(cell(i.key)), cell(i.title, 60), cell(i.status), i.assignee ? cell(i.assignee) : s.dim("-"), cell(i.url, 200)]);
  ctx.out.text(table(rows, ["KEY", "TITLE", "STATUS", "ASSIGNEE", "URL"], s));
}

export function defineSearch(program: Command, context: ContextFactory): void {
  const search = program.command("search").description("find the work item or Jira issue to link a local issue to")
      .addHelpText("after", examples("hooksync search vsts 'checkout crash'", "hooksync search jira PROJ-12"));
  addHttpOptions(
    addVstsTokenOptions(
      search
        .command("vsts")
        .description("a work item by id, else Azure DevOps work item search (titles only where search is not installed)")
        .addHelpText("after", examples("hooksync search vsts 'checkout crash'", "hooksync search vsts 123   # a work item by id"))
        .argument("<text...>", "a work item id, or words to search for")
        .addOption(onlyIntegrationOption("vsts")),
    ),
  ).action(async (words: string[], opts: VstsFlags, cmd: Command) => {
    const ctx = context(cmd);
    render(ctx, await searchVsts(ctx, opts, words), "no work items match");
  });
  addHttpOptions(
    search
      .command("jira")
      .description("an issue by key (PROJ-123), else a Jira text search")
      .addHelpText("after", examples("hooksync search jira 'checkout \"null pointer\"'", "hooksync search jira PROJ-12   # an issue by key"))
      .argument("<text...>", "an issue key, or words to search for (\"quoted words\" for a phrase)")
      .addOption(onlyIntegrationOption("jira")),
  ).action(async (words: string[], opts: HttpFlags & { integration?: string }, cmd: Command) => {
    const ctx = context(cmd);
    render(ctx, await searchJira(ctx, opts, words), "no issues match");
  });
}
