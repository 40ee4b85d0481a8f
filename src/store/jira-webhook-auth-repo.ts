import type { Db } from "./db.js";
import type { ReadMemo } from "./read-memo.js";

export type JiraWebhookAuthMode = "jwt" | "signature";

export interface JiraWebhookAuth {
  mode: JiraWebhookAuthMode;
  /** Until when (ms since the epoch) both forms are taken; null: only mode. */
  bothUntil: number | null;
}

/** How each Jira integration's deliveries are verified (table jira_webhook_auth; no row is 'jwt'). */
export class JiraWebhookAuthRepo {
  private readonly one;
  private readonly upsert;

  constructor(
    db: Db,
    private readonly memo: ReadMemo,
  ) {
    this.one = db.prepare<[number], JiraWebhookAuth>(`SELECT mode, both_until AS bothUntil FROM jira_webhook_auth WHERE integration_id = ?`);
    this.upsert = db.prepare<[number, string, number | null]>(`
      INSERT INTO jira_webhook_auth (integration_id, mode, both_until) VALUES (?, ?, ?)
      ON CONFLICT (integration_id) DO UPDATE SET mode = excluded.mode, both_until = excluded.both_until`);
  }

  /** Read once per batch of deliveries, like the integration it belongs to: applying never writes it. */
  of(integrationId: number): JiraWebhookAuth {
    return this.memo.get(`jira-webhook-auth:${integrationId}`, () => this.one.get(integrationId) ?? { mode: "jwt", bothUntil: null });
  }

  set(integrationId: number, auth: JiraWebhookAuth): void {
    this.upsert.run(integrationId, auth.mode, auth.bothUntil);
  }
}
