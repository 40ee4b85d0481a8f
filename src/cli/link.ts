import type { Command } from "commander";
import { type LinkAction, type LinkOptions, type LinkResult, runLink, runUnlink } from "../trackers/links.js";
import type { Context, ContextFactory } from "./context.js";
import { cell } from "./safe-text.js";
import { addHttpOptions, addVstsTokenOptions, integrationOption, examples } from "./options.js";

function render(ctx: Context, { result: r, name }: { result: LinkResult; name: string }): void {
  if (ctx.json) return ctx.out.json(r);
  const where = `${r.externalKey} (${cell(name)})`;
  const shown = r.external ? `: ${cell(r.external.title, 60)} [${cell(r.external.status)}]` : ", not checked with the tracker";
  const lines: Record<LinkAction, string> = {
    linked: `linked ${r.issue} to ${where}${shown}`,
    "already linked": `${r.issue} is already linked to ${where}`,
    unlinked: `unlinked ${r.issue} from ${where}`,
    "not linked": `${r.issue} was not linked to ${where}`,
  };
  ctx.out.text(lines[r.action]);
}

const ISSUE_ARG = "the local issue (BACKEND-1; see 'hooksync issue list')";
const KEY_ARG = "the work item id (123) or Jira issue key (PROJ-123)";
const INTEGRATION_OPT = "the integration (default: the only one of the tracker the key's shape names)";

export function defineLink(program: Command, context: ContextFactory): void {
  addHttpOptions(
    addVstsTokenOptions(
      program
        .command("link")
        .description("link a local issue to a work item or Jira issue, so the tracker's webhooks sync it (idempotent)")
        .addHelpText("after", examples("hooksync link BACKEND-1 123", "hooksync link BACKEND-1 PROJ-12 --integration jira-acme", "hooksync link BACKEND-1 123 --no-verify   # offline: the tracker is not asked"))
        .argument("<issue>", ISSUE_ARG)
        .argument("<externalKey>", KEY_ARG)
        .addOption(integrationOption(INTEGRATION_OPT))
        .option("--no-verify", "link without asking the tracker whether the issue exists (offline)"),
    ),
  ).action(async (issue: string, key: string, opts: LinkOptions, cmd: Command) => {
    const ctx = context(cmd);
    render(ctx, await runLink(ctx, issue, key, opts));
  });
  program
    .command("unlink")
    .description("remove a link between a local issue and an external one (idempotent)")
    .addHelpText("after", examples("hooksync unlink BACKEND-1 123"))
    .argument("<issue>", ISSUE_ARG)
    .argument("<externalKey>", KEY_ARG)
    .addOption(integrationOption(INTEGRATION_OPT))
    .action(async (issue: string, key: string, opts: { integration?: string }, cmd: Command) => {
      const ctx = context(cmd);
      render(ctx, await runUnlink(ctx, issue, key, opts));
    });
}
