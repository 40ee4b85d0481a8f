import type { Command } from "commander";
import { UsageError } from "../errors.js";
import type { Context, ContextFactory } from "./context.js";
import { type TrackerSession, type VstsFlags, withJira, withVsts } from "../trackers/sessions.js";
import { redactJwt, tense } from "./trackers.js";
import { addHttpOptions, addVstsTokenOptions, onlyIntegrationOption, dryRunOption, examples } from "./options.js";

export interface UnsubscribeOptions extends VstsFlags {
  subscription?: string;
  dryRun?: boolean;
}

export interface Removed {
  id: string;
  event: string;
  url: string;
  /** False when the tracker no longer had it. */
  deleted: boolean;
}

/**
 * Deletes hooksync's own and nothing else: an id that is not hooksync's is refused, since an
 * organization's other service hooks (CI, chat) live in the same list.
 */
async function remove<S extends { id: string }>(
  session: TrackerSession<unknown, S>,
  opts: UnsubscribeOptions,
  tracker: string,
  del: (id: string) => Promise<boolean>,
  describe: (s: S) => { event: string; url: string },
): Promise<Removed[]> {
  const { found } = await session.mine();
  const chosen = opts.subscription === undefined ? found : found.filter((s) => s.id === opts.subscription);
  if (chosen.length === 0 && opts.subscription !== undefined) {
    throw new UsageError(`${opts.subscription} is not one of hooksync's subscriptions on ${tracker}`, "hooksync deletes only its own; 'hooksync subscriptions' lists them");
  }
  const removed: Removed[] = [];
  for (const s of chosen) {
    const deleted = opts.dryRun ? true : await del(s.id);
    if (!opts.dryRun) await session.store.subscriptions.forget(session.integration.id, s.id);
    removed.push({ id: s.id, ...describe(s), deleted });
  }
  return removed;
}

export function unsubscribeVsts(ctx: Context, opts: UnsubscribeOptions): Promise<Removed[]> {
  return withVsts(ctx, opts, (s) => remove(s, opts, "Azure DevOps", (id) => s.client.delete(id), (sub) => ({ event: sub.eventType, url: sub.consumerInputs?.url ?? "" })));
}

export function unsubscribeJira(ctx: Context, opts: UnsubscribeOptions): Promise<Removed[]> {
  return withJira(ctx, opts, (s) =>
    remove(s, opts, "Jira", (id) => s.client.deleteWebhook(id), (w) => ({ event: (w.events ?? []).join(","), url: redactJwt(w.url) })),
  );
}

function render(ctx: Context, removed: Removed[], tracker: string, dryRun?: boolean): void {
  if (ctx.json) return ctx.out.json(removed);
  if (removed.length === 0) return ctx.out.info(`no hooksync subscriptions on ${tracker}: nothing to delete`);
  for (const r of removed) ctx.out.text(`${r.deleted ? tense("deleted", dryRun) : "already gone"} ${r.id}  ${r.event} -> ${r.url}`);
  if (dryRun) ctx.out.info("dry run: nothing was changed");
}

export function defineUnsubscribe(program: Command, context: ContextFactory): void {
  const unsubscribe = program.command("unsubscribe").description("delete hooksync's subscriptions on a tracker (never anything else)")
      .addHelpText("after", examples("hooksync unsubscribe vsts --dry-run", "hooksync unsubscribe jira"));
  addHttpOptions(
    addVstsTokenOptions(
      unsubscribe
        .command("vsts")
        .description("delete hooksync's Azure DevOps subscriptions (all of them unless --subscription)")
        .addHelpText("after", examples("hooksync unsubscribe vsts --dry-run", "hooksync unsubscribe vsts --subscription <id>"))
        .addOption(onlyIntegrationOption("vsts"))
        .option("--subscription <id>", "only this one")
        .option("--url <public base url>", "also count subscriptions pointing at <url>/hooks/vsts as hooksync's")
        .addOption(dryRunOption("show what would be deleted; change nothing")),
    ),
  ).action(async (opts: UnsubscribeOptions, cmd: Command) => {
    const ctx = context(cmd);
    render(ctx, await unsubscribeVsts(ctx, opts), "Azure DevOps", opts.dryRun);
  });
  addHttpOptions(
    unsubscribe
      .command("jira")
      .description("delete hooksync's Jira webhook(s)")
      .addHelpText("after", examples("hooksync unsubscribe jira", "hooksync unsubscribe jira --dry-run"))
      .addOption(onlyIntegrationOption("jira"))
      .option("--subscription <id>", "only this webhook id")
      .addOption(dryRunOption("show what would be deleted; change nothing")),
  ).action(async (opts: UnsubscribeOptions, cmd: Command) => {
    const ctx = context(cmd);
    render(ctx, await unsubscribeJira(ctx, opts), "Jira", opts.dryRun);
  });
}
