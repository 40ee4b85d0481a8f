import type { Command } from "commander";
import type { StatusMapPlan } from "../trackers/status-map.js";
import type { Context, ContextFactory } from "./context.js";
import { type VstsFlags, integrationFor, withJira, withVsts } from "../trackers/sessions.js";
import { addHttpOptions, addVstsTokenOptions, integrationOption, dryRunOption, examples } from "./options.js";

interface FetchOptions extends VstsFlags {
  project?: string;
  dryRun?: boolean;
  replace?: boolean;
}

/** The tracker's statuses by category, written as status mappings. */
async function runFetch(ctx: Context, opts: FetchOptions): Promise<StatusMapPlan[]> {
  const { integration } = await integrationFor(ctx, undefined, opts.integration);
  const { applyStatusMaps } = await import("../trackers/status-map.js");
  const flags = { ...opts, integration: integration.externalId };
  if (integration.provider === "vsts") {
    const { vstsStatuses } = await import("../providers/vsts/work-item-states.js");
    return withVsts(ctx, flags, async (s) => applyStatusMaps(s.store, integration, await vstsStatuses(s.client, opts.project), opts), "work items");
  }
  const { jiraStatuses } = await import("../providers/jira/statuses.js");
  return withJira(ctx, flags, async (s) => applyStatusMaps(s.store, integration, await jiraStatuses(s.client, opts.project), opts));
}

const SHOWN = { create: ["created", "would create"], update: ["updated", "would update"], keep: ["kept", "would keep"] } as const;

export function defineStatusMap(program: Command, context: ContextFactory): void {
  const statusMap = program.command("status-map").description("status mappings (resolved/unresolved statuses per external project)")
      .addHelpText("after", examples("hooksync status-map fetch --integration jira-acme --dry-run"));
  addHttpOptions(
    addVstsTokenOptions(
      statusMap
        .command("fetch")
        .description("write status mappings from the tracker's own categories (Azure DevOps: Completed/Removed resolve; Jira: statusCategory done)")
        .addHelpText("after", examples("hooksync status-map fetch --integration jira-acme --dry-run", "hooksync status-map fetch --integration <collection id> --project <id> --replace"))
        .addOption(integrationOption("the integration whose tracker to ask").makeOptionMandatory())
        .option("--project <id>", "only this external project (default: every project the tracker lists)")
        .addOption(dryRunOption("show what would be written; change nothing"))
        .option("--replace", "also overwrite mappings written by hand (import); fetch leaves them alone otherwise"),
    ),
  ).action(async (opts: FetchOptions, cmd: Command) => {
    const ctx = context(cmd);
    const plans = await runFetch(ctx, opts);
    if (ctx.json) return ctx.out.json(plans);
    for (const p of plans) {
      const verb = SHOWN[p.action][opts.dryRun ? 1 : 0];
      ctx.out.text(`${verb} ${p.externalProject}  resolved: ${p.resolvedStatus.join(", ") || "-"}; unresolved: ${p.unresolvedStatus.join(", ") || "-"}${p.note ? `  (${p.note})` : ""}`);
    }
    if (opts.dryRun) ctx.out.info("dry run: nothing was changed");
  });
}
