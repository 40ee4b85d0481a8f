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

export function listIssues(db: Db, filter: { project?: string } = {}): IssueView[] {
  const issues = db
    .prepare<[string | null, string | null], Omit<IssueView, "links"> & { rowid: number }>(`
      SELECT i.id AS rowid, i.key AS id, p.slug AS project, i.title, i.status, u.email AS assignee
      FROM issues i JOIN projects p ON p.id = i.project_id LEFT JOIN users u ON u.id = i.assignee_id
      WHERE (? IS NULL OR p.slug = ?)
      ORDER BY p.slug, CAST(substr(i.key, instr(i.key, '-') + 1) AS INTEGER), i.key`)
    .all(filter.project ?? null, filter.project ?? null);
  const links = db
    .prepare<[], { issueId: number; integration: string; externalKey: string }>(`
      SELECT l.issue_id AS issueId, g.external_id AS integration, l.external_key AS externalKey
      FROM links l JOIN integrations g ON g.id = l.integration_id ORDER BY g.external_id, l.external_key`)
    .all();
  const byIssue = new Map<number, IssueView["links"]>();
  for (const l of links) {
    const list = byIssue.get(l.issueId) ?? [];
    list.push({ integration: l.integration, externalKey: l.externalKey });
    byIssue.set(l.issueId, list);
  }
  return issues.map(({ rowid, ...i }) => ({ ...i, links: byIssue.get(rowid) ?? [] }));
}

export function listActivity(db: Db, filter: { issue?: string; limit?: number } = {}): ActivityView[] {
  // Newest last; --limit keeps the newest N.
  return db
    .prepare<[string | null, string | null, number], ActivityView>(`
      SELECT * FROM (
        SELECT i.key AS issue, a.kind, a.from_value AS "from", a.to_value AS "to", a.source,
               a.delivery_id AS delivery, a.at, a.id AS seq
        FROM activity a JOIN issues i ON i.id = a.issue_id
        WHERE (? IS NULL OR i.key = ?)
        ORDER BY a.id DESC LIMIT ?)
      ORDER BY seq`)
    .all(filter.issue ?? null, filter.issue ?? null, filter.limit ?? -1)
    .map(({ seq: _seq, ...a }: ActivityView & { seq?: number }) => a);
}
