import type { Db } from "./db.js";

export interface CachedJiraUser {
  email: string | null;
  fetchedAt: string;
}

/** Emails Jira hid in webhooks and gave on lookup (rule 3.5), per integration and user key. */
export class JiraUsersRepo {
  private readonly one;
  private readonly upsert;

  constructor(db: Db) {
    this.one = db.prepare<[number, string], CachedJiraUser>(
      `SELECT email, fetched_at AS fetchedAt FROM jira_users WHERE integration_id = ? AND user_key = ?`,
    );
    this.upsert = db.prepare<[number, string, string | null, string]>(`
      INSERT INTO jira_users (integration_id, user_key, email, fetched_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (integration_id, user_key) DO UPDATE SET email = excluded.email, fetched_at = excluded.fetched_at`);
  }

  get(integrationId: number, userKey: string): CachedJiraUser | undefined {
    return this.one.get(integrationId, userKey);
  }

  remember(integrationId: number, userKey: string, email: string | null, at: string): void {
    this.upsert.run(integrationId, userKey, email, at);
  }
}
