import type { LocalPort } from "../engine/local.js";
import type {
  ActivityRow,
  Change,
  IssueStatus,
  LinkedIssueRow,
  LinkedIssues,
  StatusMapping,
  SyncPort,
  SyncSettingRow,
} from "../engine/types.js";
import type { Db } from "./db.js";
import { insertWithId, type SnowflakeIds } from "./ids.js";
import type { ReadMemo } from "./read-memo.js";

interface RawSetting {
  organizationId: number;
  organization: string;
  inboundAssignee: number;
  inboundStatus: number;
}

/** The engine's view of the store: every statement prepared once per connection. */
export class SyncRepo implements SyncPort, LocalPort {
  private readonly settings;
  private readonly links;
  private readonly byKey;
  private readonly mapping;
  private readonly user;
  private readonly member;
  private readonly assignee;
  private readonly status;
  private readonly activity;
  private readonly keep;
  private readonly newest;

  constructor(
    db: Db,
    private readonly ids: SnowflakeIds,
    private readonly memo: ReadMemo,
  ) {
    // Every organization the integration belongs to, with its setting or all-off when it has none.
    this.settings = db.prepare<[number], RawSetting>(`
      SELECT o.id AS organizationId, o.slug AS organization,
             COALESCE(s.inbound_assignee, 0) AS inboundAssignee, COALESCE(s.inbound_status, 0) AS inboundStatus
      FROM integration_organizations io
      JOIN organizations o ON o.id = io.organization_id
      LEFT JOIN sync_settings s ON s.organization_id = io.organization_id AND s.integration_id = io.integration_id
      WHERE io.integration_id = ?`);
    const issueColumns = `i.id AS issueId, i.key AS key, p.id AS projectId, p.slug AS project, p.organization_id AS organizationId,
             i.status AS status, i.assignee_id AS assigneeId, u.email AS assigneeEmail`;
    // The field's kept revision rides along on every row (rule 10.1).
    this.links = db.prepare<[string, number, string], LinkedIssueRow & { revision: number | null }>(`
      SELECT ${issueColumns}, r.revision AS revision
      FROM links l
      JOIN issues i ON i.id = l.issue_id
      JOIN projects p ON p.id = i.project_id
      LEFT JOIN users u ON u.id = i.assignee_id
      LEFT JOIN revisions r ON r.integration_id = l.integration_id AND r.external_key = l.external_key AND r.field = ?
      WHERE l.integration_id = ? AND l.external_key = ?
      ORDER BY i.key`);
    this.byKey = db.prepare<[string], LinkedIssueRow>(`
      SELECT ${issueColumns}
      FROM issues i JOIN projects p ON p.id = i.project_id LEFT JOIN users u ON u.id = i.assignee_id
      WHERE i.key = ?`);
    this.mapping = db.prepare<[number, string], { resolved: string; unresolved: string }>(
      `SELECT resolved, unresolved FROM status_mappings WHERE integration_id = ? AND external_project = ?`,
    );
    this.user = db.prepare<[string], { id: number; email: string }>(
      `SELECT id, email FROM users WHERE email = ? AND verified = 1`,
    );
    this.member = db.prepare<[number, number, number], { ok: number }>(`
      SELECT 1 AS ok FROM members m
      JOIN member_projects mp ON mp.user_id = m.user_id
      WHERE m.user_id = ? AND m.organization_id = ? AND mp.project_id = ?`);
    this.assignee = db.prepare<[number | null, number]>(`UPDATE issues SET assignee_id = ? WHERE id = ?`);
    this.status = db.prepare<[string, number]>(`UPDATE issues SET status = ? WHERE id = ?`);
    this.activity = db.prepare<[number, number, string, string | null, string | null, string, number | null, string]>(
      `INSERT INTO activity (id, issue_id, kind, from_value, to_value, source, delivery_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // Never lowers what is kept, whoever wrote it last.
    this.keep = db.prepare<[number, string, string, number]>(`
      INSERT INTO revisions (integration_id, external_key, field, revision) VALUES (?, ?, ?, ?)
      ON CONFLICT (integration_id, external_key, field) DO UPDATE SET revision = excluded.revision
      WHERE excluded.revision > revisions.revision`);
    this.newest = db.prepare<[number, string], { revision: number | null }>(
      `SELECT MAX(revision) AS revision FROM revisions WHERE integration_id = ? AND external_key = ?`,
    );
  }

  syncSettings(integrationId: number): SyncSettingRow[] {
    return this.memo.get(`settings:${integrationId}`, () =>
      this.settings.all(integrationId).map((r) => ({
        organizationId: r.organizationId,
        organization: r.organization,
        inboundAssignee: r.inboundAssignee === 1,
        inboundStatus: r.inboundStatus === 1,
      })),
    );
  }

  linkedIssues(integrationId: number, externalKey: string, field: Change["field"]): LinkedIssues {
    const issues = this.links.all(field, integrationId, externalKey);
    return { issues, revision: issues[0]?.revision ?? null };
  }

  issue(key: string): LinkedIssueRow | undefined {
    return this.byKey.get(key);
  }

  statusMapping(integrationId: number, externalProject: string): StatusMapping | undefined {
    return this.memo.get(`mapping:${integrationId}:${externalProject}`, () => {
      const row = this.mapping.get(integrationId, externalProject);
      if (!row) return undefined;
      return { resolved: JSON.parse(row.resolved) as string[], unresolved: JSON.parse(row.unresolved) as string[] };
    });
  }

  verifiedUser(email: string): { id: number; email: string } | undefined {
    return this.memo.get(`user:${email}`, () => this.user.get(email));
  }

  isProjectMember(userId: number, organizationId: number, projectId: number): boolean {
    return this.memo.get(`member:${userId}:${organizationId}:${projectId}`, () => this.member.get(userId, organizationId, projectId) !== undefined);
  }

  setAssignee(issueId: number, userId: number | null): void {
    this.assignee.run(userId, issueId);
  }

  setStatus(issueId: number, status: IssueStatus): void {
    this.status.run(status, issueId);
  }

  // Written while applying, so never kept in the ReadMemo (nor are the links read with them).
  keepRevision(integrationId: number, externalKey: string, field: Change["field"], revision: number): void {
    this.keep.run(integrationId, externalKey, field, revision);
  }

  /** The newest revision kept for any field of the external issue, null when none (simulate builds the next). */
  newestRevision(integrationId: number, externalKey: string): number | null {
    return this.newest.get(integrationId, externalKey)?.revision ?? null;
  }

  addActivity(r: ActivityRow): void {
    insertWithId(this.ids, "activity", (id) => this.activity.run(id, r.issueId, r.kind, r.from, r.to, r.source, r.deliveryId, r.at));
  }
}
