import type { Db } from "./db.js";

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

export class SubscriptionsRepo {
  private readonly ofIntegration;
  private readonly upsert;
  private readonly remove;

  constructor(db: Db) {
    this.ofIntegration = db.prepare<[number], SubscriptionRow>(`SELECT ${COLUMNS} FROM subscriptions WHERE integration_id = ? ORDER BY created_at, remote_id`);
    this.upsert = db.prepare<[number, string, string, string, string | null, string, string]>(`
      INSERT INTO subscriptions (integration_id, remote_id, event_type, url, secret_sha256, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (integration_id, remote_id) DO UPDATE SET
        event_type = excluded.event_type, url = excluded.url, secret_sha256 = excluded.secret_sha256, updated_at = excluded.updated_at`);
    this.remove = db.prepare<[number, string]>(`DELETE FROM subscriptions WHERE integration_id = ? AND remote_id = ?`);
  }

  list(integrationId: number): SubscriptionRow[] {
    return this.ofIntegration.all(integrationId);
  }

  record(integrationId: number, s: { remoteId: string; eventType: string; url: string; secretSha256: string | null }, at: string): void {
    this.upsert.run(integrationId, s.remoteId, s.eventType, s.url, s.secretSha256, at, at);
  }

  forget(integrationId: number, remoteId: string): void {
    this.remove.run(integrationId, remoteId);
  }
}
