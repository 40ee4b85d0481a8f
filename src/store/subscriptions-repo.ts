import type { Sql } from "./sql.js";

/** A subscription (VSTS) or webhook (Jira) that hooksync made on a tracker. */
export interface SubscriptionRow {
  remoteId: string;
  eventType: string;
  url: string;
  secretSha256: string | null;
  createdAt: string;
  updatedAt: string;
}

const COLUMNS = `remote_id AS remoteId, event_type AS eventType, url, secret_sha256 AS secretSha256, created_at AS createdAt, updated_at AS updatedAt`;
const OF_INTEGRATION = `SELECT ${COLUMNS} FROM subscriptions WHERE integration_id = ? ORDER BY created_at, remote_id`;
const UPSERT = `
  INSERT INTO subscriptions (integration_id, remote_id, event_type, url, secret_sha256, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (integration_id, remote_id) DO UPDATE SET
    event_type = excluded.event_type, url = excluded.url, secret_sha256 = excluded.secret_sha256, updated_at = excluded.updated_at`;
const REMOVE = `DELETE FROM subscriptions WHERE integration_id = ? AND remote_id = ?`;

export class SubscriptionsRepo {
  constructor(private readonly sql: Sql) {}

  list(integrationId: number): Promise<SubscriptionRow[]> {
    return this.sql.all<SubscriptionRow>(OF_INTEGRATION, [integrationId]);
  }

  async record(integrationId: number, s: { remoteId: string; eventType: string; url: string; secretSha256: string | null }, at: string): Promise<void> {
    await this.sql.run(UPSERT, [integrationId, s.remoteId, s.eventType, s.url, s.secretSha256, at, at]);
  }

  async forget(integrationId: number, remoteId: string): Promise<void> {
    await this.sql.run(REMOVE, [integrationId, remoteId]);
  }
}
