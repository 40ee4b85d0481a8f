import type { Command } from "commander";
import type { JiraWebhook, JiraWebhookBody } from "../providers/jira/client.js";
import type { Subscription, SubscriptionBody } from "../providers/vsts/client.js";
import type { JiraWebhookAuthMode } from "../store/jira-webhook-auth-repo.js";
import type { Context, ContextFactory } from "./context.js";
import { duration } from "./numbers.js";
import { type HttpFlags, type VstsFlags, jiraWebhookName, publicUrl, withJira, withVsts } from "../trackers/sessions.js";
import { redactJwt, sha256, tense } from "./trackers.js";
import { addHttpOptions, addVstsTokenOptions, onlyIntegrationOption, dryRunOption, examples } from "./options.js";

export type Action = "created" | "updated" | "kept";

export interface SubscribeVstsOptions extends VstsFlags {
  url: string;
  event?: string[];
  project?: string;
  dryRun?: boolean;
}

export type VstsResult = (Subscription | (SubscriptionBody & { id: null })) & { action: Action };

/** One subscription per event type, found again by its consumer URL rather than ever duplicated. */
export async function runSubscribeVsts(ctx: Context, opts: SubscribeVstsOptions): Promise<VstsResult[]> {
  const url = `${publicUrl(opts.url)}/hooks/vsts`;
  const events = [...new Set(opts.event?.length ? opts.event : ["workitem.updated"])];
  const { subscriptionBody, masked } = await import("../providers/vsts/client.js");
  return withVsts(ctx, opts, async ({ client, store, integration }) => {
    const secretSha256 = sha256(integration.webhookSecret);
    const recorded = new Map((await store.subscriptions.list(integration.id)).map((r) => [r.remoteId, r]));
    const results: VstsResult[] = [];
    for (const eventType of events) {
      const wanted = subscriptionBody({ eventType, url, secret: integration.webhookSecret, ...(opts.project ? { projectId: opts.project } : {}) });
      const same = (await client.list(eventType)).filter((s) => s.eventType === eventType && s.consumerInputs?.url === url);
      const found = same.find((s) => recorded.has(s.id)) ?? same[0];
      for (const extra of same.filter((s) => s !== found)) {
        ctx.out.info(`note: subscription ${extra.id} duplicates ${found!.id} (same event and URL); 'hooksync unsubscribe vsts --subscription ${extra.id}' removes it`);
      }
      let action: Action;
      let sub: Subscription | undefined = found;
      if (!found) {
        action = "created";
        if (!opts.dryRun) sub = await client.create(wanted);
      } else if (vstsDiffers(found, wanted, recorded.get(found.id)?.secretSha256 === secretSha256)) {
        action = "updated";
        if (!opts.dryRun) sub = await client.replace(found.id, wanted);
      } else {
        action = "kept";
      }
      if (sub?.status?.startsWith("disabled")) {
        ctx.out.info(`note: subscription ${sub.id} is ${sub.status}: Azure DevOps stopped delivering; unsubscribe it and subscribe again`);
      }
      if (sub && !opts.dryRun) {
        await store.subscriptions.record(integration.id, { remoteId: sub.id, eventType, url, secretSha256 }, ctx.deps.now().toISOString());
      }
      results.push({ ...masked(sub ?? { ...wanted, id: null }), action });
    }
    return results;
  });
}

/**
 * Whether the found subscription must be replaced. Azure DevOps masks httpHeaders when read back,
 * so the secret counts as current only when hooksync recorded giving it this very secret.
 */
function vstsDiffers(found: Subscription, wanted: SubscriptionBody, secretRecorded: boolean): boolean {
  const headers = found.consumerInputs?.httpHeaders ?? "";
  const secretOk = /^\*+$/.test(headers) || headers === "" ? secretRecorded : headers.split("\n").map((l) => l.trim()).includes(wanted.consumerInputs.httpHeaders!);
  return (
    !secretOk ||
    (found.publisherInputs?.projectId ?? "") !== (wanted.publisherInputs.projectId ?? "") ||
    (found.consumerInputs?.resourceDetailsToSend ?? "all").toLowerCase() !== "all" ||
    (found.resourceVersion != null && found.resourceVersion !== wanted.resourceVersion)
  );
}

export interface SubscribeJiraOptions extends HttpFlags {
  integration?: string;
  url: string;
  jql?: string;
  dryRun?: boolean;
  /** Milliseconds during which deliveries are taken in both forms (JWT and signature). */
  rotationWindow?: number;
}

export type JiraResult = (JiraWebhook | (Omit<JiraWebhookBody, "secret"> & { id: null })) & { action: Action; verifiedBy: JiraWebhookAuthMode };

export const JIRA_EVENTS = ["jira:issue_created", "jira:issue_updated"];

/**
 * The one webhook of the integration. Jira 9: its URL carries a JWT signed with the integration's
 * secret. Jira 10: its URL names the integration and Jira signs each body with that secret
 * (X-Hub-Signature), so no credential sits in a URL that proxies log. Which form the receiver
 * takes is recorded, both during --rotation-window.
 */
export async function runSubscribeJira(ctx: Context, opts: SubscribeJiraOptions): Promise<JiraResult[]> {
  const base = publicUrl(opts.url);
  const { signJwt } = await import("../providers/jira/jwt.js");
  return withJira(ctx, opts, async ({ client, store, integration }) => {
    const signed = await client.isJira10();
    const verifiedBy: JiraWebhookAuthMode = signed ? "signature" : "jwt";
    const url = `${base}/hooks/jira/${signed ? encodeURIComponent(integration.externalId) : signJwt({ id: integration.externalId }, integration.webhookSecret)}`;
    const secretSha256 = signed ? sha256(integration.webhookSecret) : null;
    const name = jiraWebhookName(integration.externalId);
    const wanted: JiraWebhookBody = {
      name,
      url,
      events: JIRA_EVENTS,
      filters: { "issue-related-events-section": opts.jql ?? "" },
      excludeBody: false,
      ...(signed ? { secret: integration.webhookSecret } : {}),
    };
    const recorded = new Map((await store.subscriptions.list(integration.id)).map((r) => [r.remoteId, r]));
    const all = await client.listWebhooks();
    const found = all.find((w) => w.url === url) ?? all.find((w) => recorded.has(w.id)) ?? all.find((w) => w.name === name);
    let action: Action;
    let hook: JiraWebhook | undefined = found;
    if (!found) {
      action = "created";
      if (!opts.dryRun) hook = await client.createWebhook(wanted);
    } else if (jiraDiffers(found, wanted, recorded.get(found.id)?.secretSha256 === secretSha256)) {
      action = "updated";
      if (!opts.dryRun) hook = await client.updateWebhook(found.id, wanted);
    } else {
      action = "kept";
    }
    if (hook && !opts.dryRun) {
      await store.inTransaction(async (tx) => {
        await tx.subscriptions.record(integration.id, { remoteId: hook.id, eventType: JIRA_EVENTS.join(","), url, secretSha256 }, ctx.deps.now().toISOString());
        const bothUntil = opts.rotationWindow ? ctx.deps.now().getTime() + opts.rotationWindow : null;
        await tx.jiraWebhookAuth.set(integration.id, { mode: verifiedBy, bothUntil });
      });
    }
    const { secret: _never, ...shown } = hook ?? { ...wanted, id: null };
    return [{ ...shown, url: redactJwt(shown.url), action, verifiedBy }];
  });
}

/** Jira never shows a webhook's secret: it counts as current only when hooksync recorded giving it this very one. */
function jiraDiffers(found: JiraWebhook, wanted: JiraWebhookBody, secretRecorded: boolean): boolean {
  const events = new Set(found.events ?? []);
  return (
    found.url !== wanted.url ||
    found.name !== wanted.name ||
    (wanted.secret !== undefined && !secretRecorded) ||
    wanted.events.some((e) => !events.has(e)) ||
    (found.filters?.["issue-related-events-section"] ?? "") !== (wanted.filters?.["issue-related-events-section"] ?? "") ||
    found.excludeBody === true ||
    found.enabled === false
  );
}

function render<R extends { id: string | null; action: Action }>(ctx: Context, results: R[], describe: (r: R) => string, dryRun?: boolean): void {
  if (ctx.json) return ctx.out.json(results);
  for (const r of results) ctx.out.text(`${tense(r.action, dryRun)} ${r.id ?? "(new)"}  ${describe(r)}`);
  if (dryRun) ctx.out.info("dry run: nothing was changed");
}

export function defineSubscribe(program: Command, context: ContextFactory): void {
  const subscribe = program.command("subscribe").description("make a tracker send its webhooks to hooksync (idempotent)")
      .addHelpText("after", examples("hooksync subscribe vsts --url https://hooks.example.com", "hooksync subscribe jira --url https://hooks.example.com"));
  addHttpOptions(
    addVstsTokenOptions(
      subscribe
        .command("vsts")
        .description("create Azure DevOps service-hook subscriptions pointing at <url>/hooks/vsts")
        .addHelpText("after", examples("hooksync subscribe vsts --url https://hooks.example.com", "hooksync subscribe vsts --integration <collection id> --url https://hooks.example.com --event workitem.updated --dry-run"))
        .addOption(onlyIntegrationOption("vsts"))
        .requiredOption("--url <public base url>", "where Azure DevOps reaches hooksync serve")
        .option("--event <type...>", "event types, one subscription each (default: workitem.updated)")
        .option("--project <id>", "only this project's events")
        .addOption(dryRunOption("show what would be created, updated or kept; change nothing")),
    ),
  ).action(async (opts: SubscribeVstsOptions, cmd: Command) => {
    const ctx = context(cmd);
    const results = await runSubscribeVsts(ctx, opts);
    render(ctx, results, (r: VstsResult) => `${r.eventType} -> ${r.consumerInputs.url}${"status" in r && r.status ? ` (${r.status})` : ""}`, opts.dryRun);
  });
  addHttpOptions(
    subscribe
      .command("jira")
      .description("register a Jira Server webhook pointing at <url>/hooks/jira/<jwt> (needs 'hooksync oauth jira' first)")
      .addHelpText("after", examples("hooksync subscribe jira --url https://hooks.example.com", "hooksync subscribe jira --integration jira-acme --url https://hooks.example.com --jql 'project = PRJA'"))
      .addOption(onlyIntegrationOption("jira"))
      .requiredOption("--url <public base url>", "where Jira reaches hooksync serve")
      .option("--jql <query>", "only issues matching this JQL (default: all)")
      .option("--rotation-window <duration>", "take deliveries both ways (JWT URL and X-Hub-Signature) for this long, while Jira moves from one to the other (e.g. 24h)", duration())
      .addOption(dryRunOption("show what would be created, updated or kept; change nothing")),
  ).action(async (opts: SubscribeJiraOptions, cmd: Command) => {
    const ctx = context(cmd);
    const results = await runSubscribeJira(ctx, opts);
    render(ctx, results, (r: JiraResult) => `${r.name}: ${r.events.join(", ")} -> ${r.url} (verified by ${r.verifiedBy === "jwt" ? "the JWT in its URL" : "X-Hub-Signature"})`, opts.dryRun);
  });
}
