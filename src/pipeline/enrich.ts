import type { CredentialStore } from "../config/credentials.js";
import type { Deps } from "../deps.js";
import type { HooksyncError } from "../errors.js";
import type { DispatcherOptions } from "../http/dispatcher.js";
import type { JiraClient } from "../providers/jira/client.js";
import { providers } from "../providers/registry.js";
import { hiddenAssignee, withAssigneeEmail } from "../providers/jira/assignee.js";
import type { IntegrationRow } from "../store/integrations-repo.js";
import type { Store } from "../store/store.js";
import { type Delivery, unwrapEnvelope } from "./delivery.js";

const DAY_MS = 24 * 60 * 60 * 1000;
/** An email Jira gave is trusted for a week; "Jira has none" is asked again after a day. */
const FOUND_TTL_MS = 7 * DAY_MS;
const NONE_TTL_MS = DAY_MS;

export interface EnricherOptions {
  deps: Pick<Deps, "io" | "http" | "sleep" | "now" | "randomBytes">;
  /** Why a lookup did not help; callers print it with -v. */
  note?: (line: string) => void;
  http?: DispatcherOptions;
  /** --dry-run: what Jira answers is kept for the run only; the store is left as it was. */
  dryRun?: boolean;
}

/** Whether enrich() could change this delivery at all; replay skips the await for the rest. */
export function needsLookup(d: Delivery): boolean {
  const u = unwrapEnvelope(d);
  return !("error" in u) && u.body.ok && hiddenAssignee(u.body.value) !== undefined;
}

/**
 * Fills a hidden assignee email from Jira's user REST, when OAuth credentials for that Jira are
 * stored; cached in the store. Keeps the providers' parse pure: this runs before the pipeline,
 * outside its transaction. Any failure leaves the delivery as it was (the engine then ignores it
 * with "assignee has no email address").
 */
export class AssigneeEnricher {
  private credentials?: Promise<CredentialStore | undefined>;
  private readonly clients = new Map<string, JiraClient | null>();
  private readonly dryRunCache = new Map<string, { email: string | null; fetchedAt: string }>();
  private dispatcher?: Promise<import("undici").Dispatcher>;

  constructor(private readonly opts: EnricherOptions) {}

  async enrich(store: Store, input: Delivery, integration?: string): Promise<Delivery> {
    const delivery = unwrapEnvelope(input);
    if ("error" in delivery || !delivery.body.ok) return input;
    const body = delivery.body.value;
    if (delivery.provider ? delivery.provider !== "jira" : !providers.jira.detect(body)) return input;
    const user = hiddenAssignee(body);
    if (!user) return input;
    const wanted = integration ?? delivery.integration;
    const row = wanted ? store.integrations.byExternalId(wanted) : store.integrations.onlyOf("jira");
    if (!row || row.provider !== "jira") return input;

    const userKey = (user.key ?? user.name)!;
    const cached = this.dryRunCache.get(`${row.id}:${userKey}`) ?? store.jiraUsers.get(row.id, userKey);
    const now = this.opts.deps.now();
    let email: string | null | undefined;
    if (cached && now.getTime() - Date.parse(cached.fetchedAt) < (cached.email ? FOUND_TTL_MS : NONE_TTL_MS)) {
      email = cached.email;
    } else {
      const client = await this.client(row);
      if (!client) return input;
      email = await this.lookUp(client, row, user);
      if (email === undefined) return input;
      if (this.opts.dryRun) this.dryRunCache.set(`${row.id}:${userKey}`, { email, fetchedAt: now.toISOString() });
      else store.jiraUsers.remember(row.id, userKey, email, now.toISOString());
    }
    if (!email) {
      this.opts.note?.(`${delivery.source}: Jira has no email address for user ${userKey}`);
      return input;
    }
    return { ...delivery, provider: "jira", integration: row.externalId, body: { ok: true, value: withAssigneeEmail(body, email) } };
  }

  /** The user's email, null when Jira has none to give, undefined when the lookup failed. */
  private async lookUp(client: JiraClient, row: IntegrationRow, user: { key?: string; name?: string }): Promise<string | null | undefined> {
    try {
      const found = (user.key ? await client.user({ key: user.key }) : undefined) ?? (user.name ? await client.user({ username: user.name }) : undefined);
      return found?.emailAddress || null;
    } catch (err) {
      // One failure (Jira down, token revoked) stops lookups for this integration for the run,
      // rather than costing every later payload its own retries.
      this.clients.set(row.externalId, null);
      const e = err as HooksyncError;
      this.opts.note?.(`could not look up Jira users for ${row.externalId}: ${e.message}${e.hint ? ` (${e.hint})` : ""}`);
      return undefined;
    }
  }

  private async client(row: IntegrationRow): Promise<JiraClient | null> {
    if (this.clients.has(row.externalId)) return this.clients.get(row.externalId)!;
    const { CredentialStore } = await import("../config/credentials.js");
    const creds = (await (this.credentials ??= CredentialStore.openExisting(this.opts.deps.io.env)))?.jiraFor(row);
    let client: JiraClient | null = null;
    if (creds) {
      const { clientFromCredentials } = await import("../providers/jira/client.js");
      const { baseHttpOptions } = await import("../http/client.js");
      try {
        const dispatcher = await (this.dispatcher ??= this.opts.deps.http(this.opts.http ?? {}));
        client = clientFromCredentials(creds, baseHttpOptions(this.opts.deps, dispatcher), this.opts.deps);
      } catch (err) {
        this.opts.note?.(`cannot use the stored Jira credentials for ${row.externalId}: ${(err as Error).message}`);
      }
    }
    this.clients.set(row.externalId, client);
    return client;
  }

  async close(): Promise<void> {
    if (this.dispatcher) await (await this.dispatcher).close();
  }
}
