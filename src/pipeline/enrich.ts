import type { Deps } from "../deps.js";
import type { HooksyncError } from "../errors.js";
import type { DispatcherOptions } from "../http/dispatcher.js";
import type { JiraClient } from "../providers/jira/client.js";
import { providers } from "../providers/registry.js";
import { hiddenAssignee, withAssigneeEmail } from "../providers/jira/assignee.js";
import type { IntegrationRow } from "../store/integrations-repo.js";
import type { Store } from "../store/store.js";
import { type Delivery, unwrapEnvelope } from "./delivery.js";
import { resolveIntegration } from "./resolve-integration.js";

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
  /**
   * The receiver's budget for one lookup: one attempt, no retries, at most this long. Without it
   * the HTTP client's own timeout and retries apply (replay can wait).
   */
  budgetMs?: number;
  /** After a failed lookup, this integration's lookups fail at once for this long, then are tried again. */
  cooldownMs?: number;
}

/** A delivery after the lookup; failure says why the lookup could not answer (it may later). */
export interface Enriched {
  delivery: Delivery;
  failure?: string;
}

/** Whether enrich() could change this delivery at all; replay skips the await for the rest. */
export function needsLookup(d: Delivery): boolean {
  const u = unwrapEnvelope(d);
  return !("error" in u) && u.body.ok && hiddenAssignee(u.body.value) !== undefined;
}

const DEFAULT_COOLDOWN_MS = 30_000;

/**
 * Fills a hidden assignee email from Jira's user REST, when hooksync can sign in to that Jira
 * (JIRA_API_TOKEN, or credentials stored by login or oauth); cached in the store. Keeps the
 * providers' parse pure: this runs before the pipeline, outside its transaction. A delivery whose lookup failed comes back as it was, with the reason:
 * replay goes on without the email (the engine ignores it with "assignee has no email address"),
 * the receiver keeps it pending and tries again.
 */
export class AssigneeEnricher {
  private readonly clients = new Map<string, JiraClient | null>();
  /** Integrations whose last lookup failed: until when their lookups fail at once. */
  private readonly paused = new Map<string, { until: number; reason: string }>();
  private readonly dryRunCache = new Map<string, { email: string | null; fetchedAt: string }>();
  private dispatcher?: Promise<import("undici").Dispatcher>;

  constructor(private readonly opts: EnricherOptions) {}

  /**
   * integration: the one already authenticated (serve), else the --integration named. The
   * delivery comes back with the integration it resolved, so the pipeline does not look it up again.
   */
  async enrich(store: Store, input: Delivery, integration?: string | IntegrationRow): Promise<Enriched> {
    const delivery = unwrapEnvelope(input);
    if ("error" in delivery || !delivery.body.ok) return { delivery: input };
    const body = delivery.body.value;
    if (delivery.provider ? delivery.provider !== "jira" : !providers.jira.detect(body)) return { delivery: input };
    const user = hiddenAssignee(body);
    if (!user) return { delivery: input };
    const found =
      typeof integration === "object" ? { ok: true as const, integration } : await resolveIntegration(store.integrations, "jira", integration ?? delivery.integration);
    if (!found.ok || found.integration.provider !== "jira") return { delivery: input };
    const row = found.integration;
    const unchanged: Enriched = { delivery: { ...delivery, resolved: row } };

    const userKey = (user.key ?? user.name)!;
    const cached = this.dryRunCache.get(`${row.id}:${userKey}`) ?? (await store.jiraUsers.get(row.id, userKey));
    const now = this.opts.deps.now();
    let email: string | null | undefined;
    if (cached && now.getTime() - Date.parse(cached.fetchedAt) < (cached.email ? FOUND_TTL_MS : NONE_TTL_MS)) {
      email = cached.email;
    } else {
      const pause = this.paused.get(row.externalId);
      if (pause && now.getTime() < pause.until) return { ...unchanged, failure: pause.reason };
      const client = await this.client(row);
      if (!client) return unchanged;
      const looked = await this.lookUp(client, row, user);
      if ("failure" in looked) return { ...unchanged, failure: looked.failure };
      email = looked.email;
      if (this.opts.dryRun) this.dryRunCache.set(`${row.id}:${userKey}`, { email, fetchedAt: now.toISOString() });
      else await store.jiraUsers.remember(row.id, userKey, email, now.toISOString());
    }
    if (!email) {
      this.opts.note?.(`${delivery.source}: Jira has no email address for user ${userKey}`);
      return unchanged;
    }
    return { delivery: { ...delivery, provider: "jira", integration: row.externalId, resolved: row, body: { ok: true, value: withAssigneeEmail(body, email) } } };
  }

  /** The user's email, null when Jira has none to give, or why the lookup failed. */
  private async lookUp(client: JiraClient, row: IntegrationRow, user: { key?: string; name?: string }): Promise<{ email: string | null } | { failure: string }> {
    try {
      const found = (user.key ? await client.user({ key: user.key }) : undefined) ?? (user.name ? await client.user({ username: user.name }) : undefined);
      this.paused.delete(row.externalId);
      return { email: found?.emailAddress || null };
    } catch (err) {
      // One failure (Jira down, token revoked) pauses lookups for this integration for a while,
      // rather than costing every later payload its own wait; then they are tried again.
      const e = err as HooksyncError;
      const failure = `could not look up Jira users for ${row.externalId}: ${e.message}${e.hint ? ` (${e.hint})` : ""}`;
      this.paused.set(row.externalId, { until: this.opts.deps.now().getTime() + (this.opts.cooldownMs ?? DEFAULT_COOLDOWN_MS), reason: failure });
      this.opts.note?.(failure);
      return { failure };
    }
  }

  private async client(row: IntegrationRow): Promise<JiraClient | null> {
    if (this.clients.has(row.externalId)) return this.clients.get(row.externalId)!;
    const { jiraSignInIfAny } = await import("../trackers/credentials.js");
    const creds = (await jiraSignInIfAny(this.opts.deps.io.env, row))?.auth;
    let client: JiraClient | null = null;
    if (creds) {
      const { clientFromCredentials } = await import("../providers/jira/client.js");
      const { baseHttpOptions } = await import("../http/client.js");
      try {
        const dispatcher = await (this.dispatcher ??= this.opts.deps.http(this.opts.http ?? {}));
        const budget = this.opts.budgetMs;
        const base = baseHttpOptions(this.opts.deps, dispatcher, undefined, budget);
        client = clientFromCredentials(creds, budget === undefined ? base : { ...base, retry: { maxAttempts: 1 } }, this.opts.deps);
      } catch (err) {
        this.opts.note?.(`cannot use the Jira credentials for ${row.externalId}: ${(err as Error).message}`);
      }
    }
    this.clients.set(row.externalId, client);
    return client;
  }

  async close(): Promise<void> {
    if (this.dispatcher) await (await this.dispatcher).close();
  }
}
