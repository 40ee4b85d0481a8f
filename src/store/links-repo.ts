import type { Sql } from "./sql.js";

const ISSUE_BY_KEY = `SELECT id FROM issues WHERE key = ?`;
const ONE = `SELECT 1 AS ok FROM links WHERE issue_id = ? AND integration_id = ? AND external_key = ?`;
const INSERT = `INSERT INTO links (issue_id, integration_id, external_key) VALUES (?, ?, ?)
  ON CONFLICT (integration_id, external_key, issue_id) DO NOTHING`;
const REMOVE = `DELETE FROM links WHERE issue_id = ? AND integration_id = ? AND external_key = ?`;
// member is 0 or 1 on both backends: a bare EXISTS would be a boolean on PostgreSQL.
const REACH = `
  SELECT o.slug AS organization,
         CASE WHEN EXISTS (SELECT 1 FROM integration_organizations io WHERE io.integration_id = ? AND io.organization_id = o.id)
              THEN 1 ELSE 0 END AS member
  FROM issues i JOIN projects p ON p.id = i.project_id JOIN organizations o ON o.id = p.organization_id
  WHERE i.id = ?`;

/**
 * Links between local issues and external ones, written from the command line (the import file
 * writes its own). One external issue may link to several local issues, as the engine expects;
 * the same (issue, integration, key) is never stored twice.
 */
export class LinksRepo {
  constructor(private readonly sql: Sql) {}

  /**
   * The issue's organization, when the integration does not belong to it: the engine only syncs
   * issues of the integration's organizations, so such a link would never change anything.
   */
  async outsideOrganization(issueId: number, integrationId: number): Promise<string | undefined> {
    const row = await this.sql.get<{ organization: string; member: number }>(REACH, [integrationId, issueId]);
    return row && row.member === 0 ? row.organization : undefined;
  }

  /** The row id of the local issue with that id (BACKEND-1), if there is one. */
  async issueId(key: string): Promise<number | undefined> {
    return (await this.sql.get<{ id: number }>(ISSUE_BY_KEY, [key]))?.id;
  }

  async has(issueId: number, integrationId: number, externalKey: string): Promise<boolean> {
    return (await this.sql.get<{ ok: number }>(ONE, [issueId, integrationId, externalKey])) !== undefined;
  }

  /** False when the link was already there. */
  async add(issueId: number, integrationId: number, externalKey: string): Promise<boolean> {
    return (await this.sql.run(INSERT, [issueId, integrationId, externalKey])) > 0;
  }

  /** False when there was no such link. */
  async delete(issueId: number, integrationId: number, externalKey: string): Promise<boolean> {
    return (await this.sql.run(REMOVE, [issueId, integrationId, externalKey])) > 0;
  }
}
