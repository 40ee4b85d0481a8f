import type { LocalPort } from "../engine/local.js";
import type {
  LinkedIssueRow,
  LinkedIssues,
  Loaded,
  Needs,
  StatusMapping,
  SyncPort,
  SyncSettingRow,
  VerifiedUser,
  Writes,
} from "../engine/types.js";
import { insertWithId, type SnowflakeIds } from "./ids.js";
import type { ReadMemo } from "./read-memo.js";
import { allSettled, type Sql } from "./sql.js";

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
// The revisions kept for the external issue ride along on every row (rule 10.1).
const LINKS = `
  SELECT ${ISSUE_COLUMNS}, ra.revision AS assigneeRevision, rs.revision AS statusRevision
  FROM links l
  JOIN issues i ON i.id = l.issue_id
  JOIN projects p ON p.id = i.project_id
  LEFT JOIN users u ON u.id = i.assignee_id
  LEFT JOIN revisions ra ON ra.integration_id = l.integration_id AND ra.external_key = l.external_key AND ra.field = 'assignee'
  LEFT JOIN revisions rs ON rs.integration_id = l.integration_id AND rs.external_key = l.external_key AND rs.field = 'status'
  WHERE l.integration_id = ? AND l.external_key = ?
  ORDER BY i.key`;
const BY_KEY = `
  SELECT ${ISSUE_COLUMNS}
  FROM issues i JOIN projects p ON p.id = i.project_id LEFT JOIN users u ON u.id = i.assignee_id
  WHERE i.key = ?`;
const MAPPING = `SELECT resolved, unresolved FROM status_mappings WHERE integration_id = ? AND external_project = ?`;
// A verified user and the projects they may be assigned in (rule 4.4: a member of the project and
// of its organization), as one row: "1,4,7", null when none. A row per project cost SQLite twice
// the time; string_agg is in both dialects (SQLite since 3.44).
const USER = `
  SELECT u.id, u.email,
         (SELECT string_agg(CAST(mp.project_id AS TEXT), ',')
          FROM member_projects mp
          JOIN projects p ON p.id = mp.project_id
          JOIN members m ON m.user_id = mp.user_id AND m.organization_id = p.organization_id
          WHERE mp.user_id = u.id) AS projects
  FROM users u
  WHERE u.email = ? AND u.verified = 1`;
const ASSIGNEE = `UPDATE issues SET assignee_id = ? WHERE id = ?`;
const STATUS = `UPDATE issues SET status = ? WHERE id = ?`;
const BOTH = `UPDATE issues SET assignee_id = ?, status = ? WHERE id = ?`;
// Never lowers what is kept, whoever wrote it last.
const KEEP = `
  INSERT INTO revisions (integration_id, external_key, field, revision) VALUES (?, ?, ?, ?)
  ON CONFLICT (integration_id, external_key, field) DO UPDATE SET revision = excluded.revision
  WHERE excluded.revision > revisions.revision`;
const ACTIVITY = `
  INSERT INTO activity (id, issue_id, kind, from_value, to_value, source, delivery_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO NOTHING`;
const NEWEST = `SELECT MAX(revision) AS revision FROM revisions WHERE integration_id = ? AND external_key = ?`;

type LinkRow = LinkedIssueRow & { assigneeRevision: number | null; statusRevision: number | null };

/** The engine's view of the store. */
export class SyncRepo implements SyncPort, LocalPort {
  constructor(
    private readonly sql: Sql,
    private readonly ids: SnowflakeIds,
    private readonly memo: ReadMemo,
  ) {}

  /**
   * Every read asked for at once: on SQLite each runs as it is asked, on PostgreSQL the
   * transaction's connection runs them back to back; either way the payload waits once.
   */
  async load(integrationId: number, needs: Needs): Promise<Loaded> {
    const { externalKeys: keys, externalProjects: projects, emails } = needs;
    const reads: Promise<unknown>[] = [this.syncSettings(integrationId)];
    for (const key of keys) reads.push(this.linkedIssues(integrationId, key));
    for (const project of projects) reads.push(this.statusMapping(integrationId, project));
    for (const email of emails) reads.push(this.verifiedUser(email));
    const read = await allSettled(reads);
    let at = 1;
    const links = new Map<string, LinkedIssues>();
    for (const key of keys) links.set(key, read[at++] as LinkedIssues);
    const mappings = new Map<string, StatusMapping | undefined>();
    for (const project of projects) mappings.set(project, read[at++] as StatusMapping | undefined);
    const users = new Map<string, VerifiedUser | undefined>();
    for (const email of emails) users.set(email, read[at++] as VerifiedUser | undefined);
    return { settings: read[0] as SyncSettingRow[], links, mappings, users };
  }

  /**
   * The writes, each issue's row in one statement, then the activity rows and the revisions kept;
   * asked for at once and awaited once (a payload writes a row or two of each).
   */
  async write(w: Writes): Promise<void> {
    const runs: Promise<unknown>[] = [];
    for (const i of w.issues) {
      if (i.status === undefined) runs.push(this.sql.run(ASSIGNEE, [i.assigneeId!, i.issueId]));
      else if (i.assigneeId === undefined) runs.push(this.sql.run(STATUS, [i.status, i.issueId]));
      else runs.push(this.sql.run(BOTH, [i.assigneeId, i.status, i.issueId]));
    }
    for (const r of w.activity) {
      runs.push(insertWithId(this.ids, "activity", (id) => this.sql.run(ACTIVITY, [id, r.issueId, r.kind, r.from, r.to, r.source, r.deliveryId, r.at])));
    }
    for (const r of w.revisions) runs.push(this.sql.run(KEEP, [r.integrationId, r.externalKey, r.field, r.revision]));
    await allSettled(runs);
  }

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

  // Written while applying, so never kept in the ReadMemo.
  private async linkedIssues(integrationId: number, externalKey: string): Promise<LinkedIssues> {
    // The rows keep their two revision columns: copying each row without them cost replay more than they weigh.
    const issues = await this.sql.all<LinkRow>(LINKS, [integrationId, externalKey]);
    return { issues, revisions: { assignee: issues[0]?.assigneeRevision ?? null, status: issues[0]?.statusRevision ?? null } };
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

  verifiedUser(email: string): Promise<VerifiedUser | undefined> {
    return this.memo.get(`user:${email}`, async () => {
      const row = await this.sql.get<{ id: number; email: string; projects: string | null }>(USER, [email]);
      if (!row) return undefined;
      return { id: row.id, email: row.email, projects: new Set(row.projects === null ? [] : row.projects.split(",").map(Number)) };
    });
  }

  /** The newest revision kept for any field of the external issue, null when none (simulate builds the next). */
  async newestRevision(integrationId: number, externalKey: string): Promise<number | null> {
    return (await this.sql.get<{ revision: number | null }>(NEWEST, [integrationId, externalKey]))?.revision ?? null;
  }
}
