import type { Db } from "./db.js";

/**
 * Links between local issues and external ones, written from the command line (the import file
 * writes its own). One external issue may link to several local issues, as the engine expects;
 * the same (issue, integration, key) is never stored twice.
 */
export class LinksRepo {
  private readonly issueByKey;
  private readonly one;
  private readonly insert;
  private readonly remove;
  private readonly reach;

  constructor(db: Db) {
    this.issueByKey = db.prepare<[string], { id: number }>(`SELECT id FROM issues WHERE key = ?`);
    this.one = db.prepare<[number, number, string], { ok: number }>(
      `SELECT 1 AS ok FROM links WHERE issue_id = ? AND integration_id = ? AND external_key = ?`,
    );
    this.insert = db.prepare<[number, number, string]>(`INSERT OR IGNORE INTO links (issue_id, integration_id, external_key) VALUES (?, ?, ?)`);
    this.remove = db.prepare<[number, number, string]>(`DELETE FROM links WHERE issue_id = ? AND integration_id = ? AND external_key = ?`);
    this.reach = db.prepare<[number, number], { organization: string; member: number }>(`
      SELECT o.slug AS organization,
             EXISTS (SELECT 1 FROM integration_organizations io WHERE io.integration_id = ? AND io.organization_id = o.id) AS member
      FROM issues i JOIN projects p ON p.id = i.project_id JOIN organizations o ON o.id = p.organization_id
      WHERE i.id = ?`);
  }

  /**
   * The issue's organization, when the integration does not belong to it: the engine only syncs
   * issues of the integration's organizations, so such a link would never change anything.
   */
  outsideOrganization(issueId: number, integrationId: number): string | undefined {
    const row = this.reach.get(integrationId, issueId);
    return row && row.member === 0 ? row.organization : undefined;
  }

  /** The row id of the local issue with that id (BACKEND-1), if there is one. */
  issueId(key: string): number | undefined {
    return this.issueByKey.get(key)?.id;
  }

  has(issueId: number, integrationId: number, externalKey: string): boolean {
    return this.one.get(issueId, integrationId, externalKey) !== undefined;
  }

  /** False when the link was already there. */
  add(issueId: number, integrationId: number, externalKey: string): boolean {
    return this.insert.run(issueId, integrationId, externalKey).changes > 0;
  }

  /** False when there was no such link. */
  delete(issueId: number, integrationId: number, externalKey: string): boolean {
    return this.remove.run(issueId, integrationId, externalKey).changes > 0;
  }
}
