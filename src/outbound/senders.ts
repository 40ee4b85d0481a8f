import type { Deps } from "../deps.js";
import { UsageError } from "../errors.js";
import type { BaseHttpOptions, HttpClient } from "../http/client.js";
import type { DiscordClient } from "../notify/discord.js";
import type { JiraPusher } from "../providers/jira/outbound.js";
import type { TargetStatuses } from "../providers/types.js";
import type { VstsPusher } from "../providers/vsts/outbound.js";
import type { IntegrationRow } from "../store/integrations-repo.js";
import type { OutboxRow, Via } from "../store/outbox-repo.js";
import type { Store } from "../store/store.js";
import { type TrackerCredentials, jiraSecrets, trackerBaseUrl, vstsSecrets } from "../trackers/credentials.js";

export interface Sent {
  detail: string;
  /** Written with the row's 'done', through the Store of the same transaction (the Discord message id). */
  record?: (tx: Store, at: string) => Promise<void>;
}

const SOURCE: Record<Via, string> = { cli: "hooksync", vsts: "Azure DevOps", jira: "Jira" };

/** A tracker's pusher, and its HTTP client where the tracker throttles by Retry-After on answers that succeed (Azure DevOps). */
type Made = { pusher: VstsPusher | JiraPusher; http?: HttpClient };

/**
 * A client per integration, made on first use (the credentials ask for a token once per run).
 * Every secret it learns joins `secrets`, which its HTTP clients keep out of the errors they make.
 */
export class Senders {
  private readonly pushers = new Map<number, Promise<Made>>();
  private discord?: Promise<{ client: DiscordClient; webhookId: string }>;
  private learnt?: Promise<void>;
  /** Shared by reference with every client made here, so a secret learnt later still counts. */
  readonly secrets: string[];
  private readonly base: BaseHttpOptions;

  private constructor(
    private readonly store: Store,
    base: BaseHttpOptions,
    private readonly credentials: TrackerCredentials,
    private readonly clock: Pick<Deps, "now" | "sleep" | "randomBytes">,
    webhookSecrets: string[],
  ) {
    this.secrets = webhookSecrets;
    this.base = { ...base, secrets: this.secrets };
  }

  /** Senders for the store's integrations: their webhook secrets are known from the start. */
  static async open(store: Store, base: BaseHttpOptions, credentials: TrackerCredentials, clock: Pick<Deps, "now" | "sleep" | "randomBytes">): Promise<Senders> {
    const webhookSecrets = (await store.integrations.all()).map((i) => i.webhookSecret);
    return new Senders(store, base, credentials, clock, webhookSecrets);
  }

  async send(row: OutboxRow): Promise<Sent> {
    // Before the first request: any answer may quote a secret of another tracker.
    await (this.learnt ??= this.credentials.known().then((known) => void this.secrets.push(...known)));
    if (await this.store.outbox.outdated(row.id)) return { detail: `not sent: a newer change of ${row.issue}'s ${row.kind === "status" ? "status" : "assignee"} came after it` };
    if (row.kind === "discord") return this.notify(row);
    if (!(await this.store.outbox.stillLinked(row))) return { detail: `not sent: ${row.issue} is no longer linked to ${row.externalKey}` };
    const integration = (await this.store.integrations.byExternalId(row.integration!))!;
    const { pusher } = await this.pusherFor(integration);
    const key = row.externalKey!;
    return { detail: row.kind === "assignee" ? await pusher.assign(key, row.payload.to) : await pusher.setStatus(key, this.targets(row)) };
  }

  /** The integrations whose tracker asked for a pause (Retry-After) that lasts past `now`. */
  async throttled(now: number): Promise<number[]> {
    const out: number[] = [];
    for (const [id, made] of this.pushers) {
      const until = await made.then((m) => m.http?.throttledUntil ?? 0, () => 0);
      if (until > now) out.push(id);
    }
    return out;
  }

  /** The row's local status as the integration's statuses, per external project (rule 5.2's mapping, read backwards). */
  private targets(row: OutboxRow): TargetStatuses {
    return async (project) => {
      const mapping = await this.store.sync.statusMapping(row.integrationId!, project);
      return mapping && (row.payload.to === "resolved" ? mapping.resolved : mapping.unresolved);
    };
  }

  /** Made once per integration; a setup that failed is tried again for the next row (serve runs for months). */
  private pusherFor(integration: IntegrationRow): Promise<Made> {
    let made = this.pushers.get(integration.id);
    if (!made) {
      made = integration.provider === "vsts" ? this.vsts(integration) : this.jira(integration);
      this.pushers.set(integration.id, made);
      made.catch(() => this.pushers.delete(integration.id));
    }
    return made;
  }

  private async vsts(integration: IntegrationRow): Promise<Made> {
    const baseUrl = trackerBaseUrl(integration);
    const auth = await this.credentials.vsts();
    this.secrets.push(...vstsSecrets(auth));
    const { VstsClient, vstsHttp } = await import("../providers/vsts/client.js");
    const { VstsPusher } = await import("../providers/vsts/outbound.js");
    const http = vstsHttp(this.base, "work item updates");
    return { pusher: new VstsPusher(new VstsClient(http, baseUrl, auth)), http };
  }

  private async jira(integration: IntegrationRow): Promise<Made> {
    const creds = await this.credentials.jira(integration);
    this.secrets.push(...jiraSecrets(creds));
    const { clientFromCredentials } = await import("../providers/jira/client.js");
    const { JiraPusher } = await import("../providers/jira/outbound.js");
    return { pusher: new JiraPusher(clientFromCredentials(creds, this.base, this.clock)) };
  }

  /** Rule 8.1: the issue's message edited when this webhook posted one, else a new one. */
  private async notify(row: OutboxRow): Promise<Sent> {
    if (!this.discord) {
      this.discord = this.discordClient();
      this.discord.catch(() => (this.discord = undefined));
    }
    const { client, webhookId } = await this.discord;
    const content = (await import("../notify/discord.js")).notificationText({
      issue: row.issue,
      title: row.title,
      assignee: row.payload.to,
      source: SOURCE[row.payload.via],
    });
    const earlier = await this.store.outbox.discordMessage(row.issueId, webhookId);
    if (earlier !== undefined && (await client.edit(earlier, content))) return { detail: `edited Discord message ${earlier}` };
    const id = await client.post(content);
    return {
      detail: earlier === undefined ? `posted Discord message ${id}` : `posted Discord message ${id} (message ${earlier} was deleted)`,
      record: (tx, at) => tx.outbox.rememberDiscordMessage(row.issueId, webhookId, id, at),
    };
  }

  private async discordClient(): Promise<{ client: DiscordClient; webhookId: string }> {
    const channel = await this.store.outbox.discordChannel();
    if (!channel) throw new UsageError("Discord notifications are off", "turn them on with 'hooksync notify discord', or drop it with 'hooksync outbound discard'");
    const webhook = await this.credentials.discord(channel.webhookId);
    this.secrets.push(webhook.url, webhook.url.slice(webhook.url.lastIndexOf("/") + 1));
    const { DiscordClient, discordHttp } = await import("../notify/discord.js");
    return { client: new DiscordClient(discordHttp(this.base), webhook, this.clock), webhookId: channel.webhookId };
  }
}
