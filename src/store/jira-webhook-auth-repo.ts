import type { ReadMemo } from "./read-memo.js";
import type { Sql } from "./sql.js";

export type JiraWebhookAuthMode = "jwt" | "signature";

export interface JiraWebhookAuth {
  mode: JiraWebhookAuthMode;
  /** Until when (ms since the epoch) both forms are taken; null: only mode. */
  bothUntil: number | null;
}

const ONE = `SELECT mode, both_until AS bothUntil FROM jira_webhook_auth WHERE integration_id = ?`;
const UPSERT = `
  INSERT INTO jira_webhook_auth (integration_id, mode, both_until) VALUES (?, ?, ?)
  ON CONFLICT (integration_id) DO UPDATE SET mode = excluded.mode, both_until = excluded.both_until`;

/** How each Jira integration's deliveries are verified (table jira_webhook_auth; no row is 'jwt'). */
export class JiraWebhookAuthRepo {
  constructor(
    private readonly sql: Sql,
    private readonly memo: ReadMemo,
  ) {}

  /** Read once per batch of deliveries, like the integration it belongs to: applying never writes it. */
  of(integrationId: number): Promise<JiraWebhookAuth> {
    return this.memo.get(
      `jira-webhook-auth:${integrationId}`,
      async () => (await this.sql.get<JiraWebhookAuth>(ONE, [integrationId])) ?? { mode: "jwt", bothUntil: null },
    );
  }

  async set(integrationId: number, auth: JiraWebhookAuth): Promise<void> {
    await this.sql.run(UPSERT, [integrationId, auth.mode, auth.bothUntil]);
  }
}
