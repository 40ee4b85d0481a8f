import type { Command } from "commander";
import { HooksyncError, UsageError } from "../errors.js";
import type { BaseHttpOptions } from "../http/client.js";
import type { DiscordClient } from "../notify/discord.js";
import type { JiraPusher } from "../providers/jira/outbound.js";
import type { TargetStatuses } from "../providers/types.js";
import type { VstsPusher } from "../providers/vsts/outbound.js";
import type { IntegrationRow } from "../store/integrations-repo.js";
import type { OutboxKind, OutboxRow, Via } from "../store/outbox-repo.js";
import type { Store } from "../store/store.js";
import type { Context } from "./context.js";
import { shortId } from "./issue.js";
import { type HttpFlags, addHttpOptions, jiraCredentials, readPat, trackerBaseUrl, withHttp } from "./trackers.js";

export interface PushFlags extends HttpFlags {
  patStdin?: boolean;
}

/** The flags of every command that sends pushes: the tracker HTTP options and the Azure DevOps token. */
export function addPushOptions(cmd: Command): Command {
  return addHttpOptions(cmd.option("--pat-stdin", "read the Azure DevOps personal access token from stdin (else AZURE_DEVOPS_EXT_PAT)"));
}

/** One row's attempt, as `--json` shows it. */
export interface PushResult {
  id: number;
  kind: OutboxKind;
  issue: string;
  /** The integration's externalId, or "discord". */
  integration: string;
  externalKey: string | null;
  ok: boolean;
  /** What the tracker was asked to do and did. */
  detail: string | null;
  error: string | null;
}

const SOURCE: Record<Via, string> = { cli: "hooksync", vsts: "Azure DevOps", jira: "Jira" };

const errorLine = (err: HooksyncError) => `${err.message}${err.hint ? ` (${err.hint})` : ""}`;

/**
 * Sends the rows in order (the order the changes were made in). Each is claimed, sent, and marked
 * done or failed in a transaction of its own, never one that spans the call: a crash leaves it
 * unsent for 'hooksync outbound retry'.
 */
export async function pushRows(ctx: Context, store: Store, rows: OutboxRow[], flags: PushFlags): Promise<PushResult[]> {
  if (rows.length === 0) return [];
  const at = () => ctx.deps.now().toISOString();
  return withHttp(ctx, flags, async (base) => {
    const senders = new Senders(ctx, store, base, flags);
    const results: PushResult[] = [];
    for (const row of rows) {
      const result: PushResult = {
        id: row.id,
        kind: row.kind,
        issue: row.issue,
        integration: row.integration ?? "discord",
        externalKey: row.externalKey,
        ok: false,
        detail: null,
        error: null,
      };
      results.push(result);
      if (!store.outbox.claim(row, at())) {
        const now = store.outbox.get(row.id);
        if (now === undefined) Object.assign(result, { ok: true, detail: "superseded by a newer change" });
        else if (now.state === "done") Object.assign(result, { ok: true, detail: "sent by another hooksync process" });
        else result.error = "another hooksync process is sending it";
        continue;
      }
      try {
        const sent = await senders.send(row);
        store.inTransaction(() => {
          sent.record?.(at());
          store.outbox.done(row.id, at());
        });
        Object.assign(result, { ok: true, detail: sent.detail });
      } catch (err) {
        if (!(err instanceof HooksyncError)) throw err;
        result.error = errorLine(err);
        store.outbox.failed(row.id, result.error, at());
      }
    }
    return results;
  });
}

interface Sent {
  detail: string;
  /** Written with the row's 'done', in the same transaction (the Discord message id). */
  record?: (at: string) => void;
}

/**
 * A client per integration, made on first use. A setup failure (no token, no credentials) is
 * kept, so every row of that integration fails with it and the token is asked for once.
 */
class Senders {
  private readonly vsts = new Map<number, Promise<VstsPusher>>();
  private readonly jira = new Map<number, Promise<JiraPusher>>();
  private pat?: Promise<string>;
  private discord?: Promise<{ client: DiscordClient; webhookId: string }>;

  constructor(
    private readonly ctx: Context,
    private readonly store: Store,
    private readonly base: BaseHttpOptions,
    private readonly flags: PushFlags,
  ) {}

  async send(row: OutboxRow): Promise<Sent> {
    if (row.kind === "discord") return this.notify(row);
    if (!this.store.outbox.stillLinked(row)) return { detail: `not sent: ${row.issue} is no longer linked to ${row.externalKey}` };
    const integration = this.store.integrations.byExternalId(row.integration!)!;
    const pusher = integration.provider === "vsts" ? await this.vstsFor(integration) : await this.jiraFor(integration);
    const key = row.externalKey!;
    return { detail: row.kind === "assignee" ? await pusher.assign(key, row.payload.to) : await pusher.setStatus(key, this.targets(row)) };
  }

  /** The row's local status as the integration's statuses, per external project (rule 5.2's mapping, read backwards). */
  private targets(row: OutboxRow): TargetStatuses {
    return (project) => {
      const mapping = this.store.sync.statusMapping(row.integrationId!, project);
      return mapping && (row.payload.to === "resolved" ? mapping.resolved : mapping.unresolved);
    };
  }

  private vstsFor(integration: IntegrationRow): Promise<VstsPusher> {
    let pusher = this.vsts.get(integration.id);
    if (!pusher) {
      pusher = (async () => {
        const baseUrl = trackerBaseUrl(integration);
        const pat = await (this.pat ??= readPat(this.ctx, this.flags.patStdin));
        const { VstsClient, vstsHttp } = await import("../providers/vsts/client.js");
        const { VstsPusher } = await import("../providers/vsts/outbound.js");
        return new VstsPusher(new VstsClient(vstsHttp(this.base, "work item updates"), baseUrl, pat));
      })();
      this.vsts.set(integration.id, pusher);
    }
    return pusher;
  }

  private jiraFor(integration: IntegrationRow): Promise<JiraPusher> {
    let pusher = this.jira.get(integration.id);
    if (!pusher) {
      pusher = (async () => {
        const creds = await jiraCredentials(this.ctx, integration);
        const { clientFromCredentials } = await import("../providers/jira/client.js");
        const { JiraPusher } = await import("../providers/jira/outbound.js");
        return new JiraPusher(clientFromCredentials(creds, this.base, this.ctx.deps));
      })();
      this.jira.set(integration.id, pusher);
    }
    return pusher;
  }

  /** Rule 8.1: the issue's message edited when this webhook posted one, else a new one. */
  private async notify(row: OutboxRow): Promise<Sent> {
    const { client, webhookId } = await (this.discord ??= this.discordClient());
    const content = (await import("../notify/discord.js")).notificationText({
      issue: row.issue,
      title: row.title,
      assignee: row.payload.to,
      source: SOURCE[row.payload.via],
    });
    const earlier = this.store.outbox.discordMessage(row.issueId, webhookId);
    if (earlier !== undefined && (await client.edit(earlier, content))) return { detail: `edited Discord message ${earlier}` };
    const id = await client.post(content);
    return {
      detail: earlier === undefined ? `posted Discord message ${id}` : `posted Discord message ${id} (message ${earlier} was deleted)`,
      record: (at) => this.store.outbox.rememberDiscordMessage(row.issueId, webhookId, id, at),
    };
  }

  private async discordClient(): Promise<{ client: DiscordClient; webhookId: string }> {
    const channel = this.store.outbox.discordChannel();
    if (!channel) throw new UsageError("Discord notifications are off", "turn them on with 'hooksync notify discord', or drop it with 'hooksync outbound discard'");
    const { DiscordClient, channelWebhook, discordHttp, WEBHOOK_ENV } = await import("../notify/discord.js");
    const found = await channelWebhook(this.ctx.deps.io.env, channel.webhookId);
    if (!found) throw new UsageError(`no URL for Discord webhook ${channel.webhookId} in the credentials or ${WEBHOOK_ENV}`, "run 'hooksync notify discord' again");
    return { client: new DiscordClient(discordHttp(this.base), found.webhook, this.ctx.deps), webhookId: channel.webhookId };
  }
}

/** Each attempt on a line: successes on stdout, failures on stderr with what happens to them. */
export function renderPushes(ctx: Context, results: PushResult[]): void {
  const s = ctx.style;
  for (const r of results) {
    const where = r.kind === "discord" ? "Discord" : `${shortId(r.integration)} ${r.externalKey}`;
    if (r.ok) ctx.out.text(`  ${s.green("pushed")} ${r.issue} ${r.kind === "discord" ? "notification" : r.kind} to ${where}: ${r.detail}`);
    else ctx.deps.io.stderr.write(`hooksync: ${r.issue} ${r.kind === "discord" ? "notification" : r.kind} to ${where} failed: ${r.error}\n`);
  }
  const failed = results.filter((r) => !r.ok).length;
  if (failed > 0) ctx.out.info(`${failed} ${failed === 1 ? "push stays" : "pushes stay"} queued: 'hooksync outbound retry' sends ${failed === 1 ? "it" : "them"} again`);
}

/** After replay or simulate, which queue pushes but never send them: say so when some were queued. */
export function noteQueued(ctx: Context, store: Store, unsentBefore: number): void {
  const queued = store.outbox.unsentCount() - unsentBefore;
  if (queued > 0) ctx.out.info(`${queued} push${queued === 1 ? "" : "es"} to trackers or Discord queued: 'hooksync outbound send' sends them`);
}
