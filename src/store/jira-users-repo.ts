import type { Sql } from "./sql.js";

export interface CachedJiraUser {
  email: string | null;
  fetchedAt: string;
}

const ONE = `SELECT email, fetched_at AS fetchedAt FROM jira_users WHERE integration_id = ? AND user_key = ?`;
const UPSERT = `
  INSERT INTO jira_users (integration_id, user_key, email, fetched_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (integration_id, user_key) DO UPDATE SET email = excluded.email, fetched_at = excluded.fetched_at`;

/** Emails Jira hid in webhooks and gave on lookup (rule 3.5), per integration and user key. */
export class JiraUsersRepo {
  constructor(private readonly sql: Sql) {}

  get(integrationId: number, userKey: string): Promise<CachedJiraUser | undefined> {
    return this.sql.get<CachedJiraUser>(ONE, [integrationId, userKey]);
  }

  async remember(integrationId: number, userKey: string, email: string | null, at: string): Promise<void> {
    await this.sql.run(UPSERT, [integrationId, userKey, email, at]);
  }
}
