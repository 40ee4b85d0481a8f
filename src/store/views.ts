import type { ActivityKind, IssueStatus, Source } from "../engine/types.js";
import type { Db } from "./db.js";

/** `hooksync issue list --json`, as cli.md fixes it. */
export interface IssueView {
  id: string;
  project: string;
  title: string;
  status: IssueStatus;
  assignee: string | null;
  links: { integration: string; externalKey: string }[];
}

/** `hooksync activity --json`, as cli.md fixes it. */
export interface ActivityView {
  issue: string;
  kind: ActivityKind;
  from: string | null;
  to: string | null;
  source: Source;
  delivery: number | null;
  at: string;
}

/** The read-only views the command line lists (issue list, activity), in cli.md's shapes. */
export class ViewsRepo {
  private readonly issueRows;
  private readonly linkRows;
  private readonly activityRows;

  constructor(db: Db) {
    this.issueRows = db.prepare<[string | null, string | null], Omit<IssueView, "links"> & { rowid: number }>(`
      SELECT i.id AS rowid, i.key AS id, p.slug AS project, i.title, i.status, u.email AS assignee
      FROM issues i JOIN projects p ON p.id = i.project_id LEFT JOIN users u ON u.id = i.assignee_id
      WHERE (? IS NULL OR p.slug = ?)
      ORDER BY p.slug, CAST(substr(i.key, instr(i.key, '-') + 1) AS INTEGER), i.key`);
    this.linkRows = db.prepare<[], { issueId: number; integration: string; externalKey: string }>(`
      SELECT l.issue_id AS issueId, g.external_id AS integration, l.external_key AS externalKey
      FROM links l JOIN integrations g ON g.id = l.integration_id ORDER BY g.external_id, l.external_key`);
    // Newest last; --limit keeps the newest N.
    this.activityRows = db.prepare<[string | null, string | null, number], ActivityView & { seq?: number }>(`
      SELECT * FROM (
        SELECT i.key AS issue, a.kind, a.from_value AS "from", a.to_value AS "to", a.source,
               a.delivery_id AS delivery, a.at, a.id AS seq
        FROM activity a JOIN issues i ON i.id = a.issue_id
        WHERE (? IS NULL OR i.key = ?)
        ORDER BY a.id DESC LIMIT ?)
      ORDER BY seq`);
  }

  issues(filter: { project?: string } = {}): IssueView[] {
    const issues = this.issueRows.all(filter.project ?? null, filter.project ?? null);
    const byIssue = new Map<number, IssueView["links"]>();
    for (const l of this.linkRows.all()) {
      const list = byIssue.get(l.issueId) ?? [];
      list.push({ integration: l.integration, externalKey: l.externalKey });
      byIssue.set(l.issueId, list);
    }
    return issues.map(({ rowid, ...i }) => ({ ...i, links: byIssue.get(rowid) ?? [] }));
  }

  activity(filter: { issue?: string; limit?: number } = {}): ActivityView[] {
    return this.activityRows.all(filter.issue ?? null, filter.issue ?? null, filter.limit ?? -1).map(({ seq: _seq, ...a }) => a);
  }
}
