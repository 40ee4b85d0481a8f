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
import { insertWithId, type SnowflakeIds } from "./ids.js";
import type { ReadMemo } from "./read-memo.js";
import type { Sql } from "./sql.js";

interface RawSetting {
  organizationId: number;
  organization: string;
  inboundAssignee: number;
  inboundStatus: number;
}

// Every organization the integration belongs to, with its setting or all-off when it has none,
// in id order: the order the engine's notes name them in (SQLite's primary key gave it unasked).
const SETTINGS = `
  SELECT o.id AS organizationId, o.slug AS organization,
         COALESCE(s.inbound_assignee, 0) AS inboundAssignee, COALESCE(s.inbound_status, 0) AS inboundStatus
  FROM integration_organizations io
  JOIN organizations o ON o.id = io.organization_id
  LEFT JOIN sync_settings s ON s.organization_id = io.organization_id AND s.integration_id = io.integration_id
  WHERE io.integration_id = ?
  ORDER BY io.organization_id`;
const ISSUE_COLUMNS = `i.id AS issueId, i.key AS key, p.id AS projectId, p.slug AS project, p.organization_id AS organizationId,
         i.status AS status, i.assignee_id AS assigneeId, u.email AS assigneeEmail`;
// The field's kept revision rides along on every row (rule 10.1).
const LINKS = `
  SELECT ${ISSUE_COLUMNS}, r.revision AS revision
  FROM links l
  JOIN issues i ON i.id = l.issue_id
  JOIN projects p ON p.id = i.project_id
  LEFT JOIN users u ON u.id = i.assignee_id
  LEFT JOIN revisions r ON r.integration_id = l.integration_id AND r.external_key = l.external_key AND r.field = ?
  WHERE l.integration_id = ? AND l.external_key = ?
  ORDER BY i.key`;
const BY_KEY = `
  SELECT ${ISSUE_COLUMNS}
  FROM issues i JOIN projects p ON p.id = i.project_id LEFT JOIN users u ON u.id = i.assignee_id
  WHERE i.key = ?`;
const MAPPING = `SELECT resolved, unresolved FROM status_mappings WHERE integration_id = ? AND external_project = ?`;
const USER = `SELECT id, email FROM users WHERE email = ? AND verified = 1`;
const MEMBER = `
  SELECT 1 AS ok FROM members m
  JOIN member_projects mp ON mp.user_id = m.user_id
  WHERE m.user_id = ? AND m.organization_id = ? AND mp.project_id = ?`;
const ASSIGNEE = `UPDATE issues SET assignee_id = ? WHERE id = ?`;
const STATUS = `UPDATE issues SET status = ? WHERE id = ?`;
const ACTIVITY = `
  INSERT INTO activity (id, issue_id, kind, from_value, to_value, source, delivery_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO NOTHING`;
// Never lowers what is kept, whoever wrote it last.
const KEEP = `
  INSERT INTO revisions (integration_id, external_key, field, revision) VALUES (?, ?, ?, ?)
  ON CONFLICT (integration_id, external_key, field) DO UPDATE SET revision = excluded.revision
  WHERE excluded.revision > revisions.revision`;
const NEWEST = `SELECT MAX(revision) AS revision FROM revisions WHERE integration_id = ? AND external_key = ?`;

/** The engine's view of the store. */
export class SyncRepo implements SyncPort, LocalPort {
  constructor(
    private readonly sql: Sql,
    private readonly ids: SnowflakeIds,
    private readonly memo: ReadMemo,
  ) {}

  syncSettings(integrationId: number): Promise<SyncSettingRow[]> {
    return this.memo.get(`settings:${integrationId}`, async () =>
      (await this.sql.all<RawSetting>(SETTINGS, [integrationId])).map((r) => ({
        organizationId: r.organizationId,
        organization: r.organization,
        inboundAssignee: r.inboundAssignee === 1,
        inboundStatus: r.inboundStatus === 1,
      })),
    );
  }

  async linkedIssues(integrationId: number, externalKey: string, field: Change["field"]): Promise<LinkedIssues> {
    const issues = await this.sql.all<LinkedIssueRow & { revision: number | null }>(LINKS, [field, integrationId, externalKey]);
    return { issues, revision: issues[0]?.revision ?? null };
  }

  issue(key: string): Promise<LinkedIssueRow | undefined> {
    return this.sql.get<LinkedIssueRow>(BY_KEY, [key]);
  }

  statusMapping(integrationId: number, externalProject: string): Promise<StatusMapping | undefined> {
    return this.memo.get(`mapping:${integrationId}:${externalProject}`, async () => {
      const row = await this.sql.get<{ resolved: string; unresolved: string }>(MAPPING, [integrationId, externalProject]);
      if (!row) return undefined;
      return { resolved: JSON.parse(row.resolved) as string[], unresolved: JSON.parse(row.unresolved) as string[] };
    });
  }

  verifiedUser(email: string): Promise<{ id: number; email: string } | undefined> {
    return this.memo.get(`user:${email}`, () => this.sql.get<{ id: number; email: string }>(USER, [email]));
  }

  isProjectMember(userId: number, organizationId: number, projectId: number): Promise<boolean> {
    return this.memo.get(
      `member:${userId}:${organizationId}:${projectId}`,
      async () => (await this.sql.get<{ ok: number }>(MEMBER, [userId, organizationId, projectId])) !== undefined,
    );
  }

  async setAssignee(issueId: number, userId: number | null): Promise<void> {
    await this.sql.run(ASSIGNEE, [userId, issueId]);
  }

  async setStatus(issueId: number, status: IssueStatus): Promise<void> {
    await this.sql.run(STATUS, [status, issueId]);
  }

  // Written while applying, so never kept in the ReadMemo (nor are the links read with them).
  async keepRevision(integrationId: number, externalKey: string, field: Change["field"], revision: number): Promise<void> {
    await this.sql.run(KEEP, [integrationId, externalKey, field, revision]);
  }

  /** The newest revision kept for any field of the external issue, null when none (simulate builds the next). */
  async newestRevision(integrationId: number, externalKey: string): Promise<number | null> {
    return (await this.sql.get<{ revision: number | null }>(NEWEST, [integrationId, externalKey]))?.revision ?? null;
  }

  async addActivity(r: ActivityRow): Promise<void> {
    await insertWithId(this.ids, "activity", (id) => this.sql.run(ACTIVITY, [id, r.issueId, r.kind, r.from, r.to, r.source, r.deliveryId, r.at]));
  }
}
