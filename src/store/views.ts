import type { ActivityKind, IssueStatus, Source } from "../engine/types.js";
import { NO_LIMIT } from "./deliveries-repo.js";
import type { Sql } from "./sql.js";

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

// By project, then key, byte-wise on both backends; issues() then orders each project's issues by
// number. A null filter lists every row (the columns compared are never null): `? IS NULL` alone
// leaves PostgreSQL unable to tell the parameter's type.
const ISSUE_ROWS = `
  SELECT i.id AS rowid, i.key AS id, p.slug AS project, i.title, i.status, u.email AS assignee
  FROM issues i JOIN projects p ON p.id = i.project_id LEFT JOIN users u ON u.id = i.assignee_id
  WHERE p.slug = COALESCE(?, p.slug)
  ORDER BY p.slug, i.key`;
const LINK_ROWS = `
  SELECT l.issue_id AS issueId, g.external_id AS integration, l.external_key AS externalKey
  FROM links l JOIN integrations g ON g.id = l.integration_id ORDER BY g.external_id, l.external_key`;
// Newest last; --limit keeps the newest N. PostgreSQL before 16 wants the subquery named.
const ACTIVITY_ROWS = `
  SELECT * FROM (
    SELECT i.key AS issue, a.kind, a.from_value AS "from", a.to_value AS "to", a.source,
           a.delivery_id AS delivery, a.at, a.id AS seq
    FROM activity a JOIN issues i ON i.id = a.issue_id
    WHERE i.key = COALESCE(?, i.key)
    ORDER BY a.id DESC LIMIT ?) AS newest
  ORDER BY seq`;

/**
 * The number after an issue key's first dash, as digits without leading zeros ("" for 0, and for
 * a key whose rest is not all digits, which import never writes): compared by length, then
 * digit by digit, they order as numbers of any size.
 */
const numberOf = (key: string): string => {
  const rest = key.slice(key.indexOf("-") + 1);
  return /^\d+$/.test(rest) ? rest.replace(/^0+/, "") : "";
};
const byNumber = (a: string, b: string): number => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);

/**
 * Rows sorted by project, then key, reordered within each project by the number in the key
 * (BACKEND-2 before BACKEND-10). SQLite and PostgreSQL read that number differently (instr,
 * CAST of text that is not a number), so it is compared here; the sort is stable, so keys of
 * one number keep their byte-wise order from the database.
 */
function naturalOrder<T extends { project: string; id: string }>(rows: T[]): T[] {
  const sorted: T[] = [];
  for (let start = 0; start < rows.length; ) {
    let end = start + 1;
    while (end < rows.length && rows[end]!.project === rows[start]!.project) end++;
    const numbered = rows.slice(start, end).map((row) => ({ row, number: numberOf(row.id) }));
    numbered.sort((a, b) => byNumber(a.number, b.number));
    for (const { row } of numbered) sorted.push(row);
    start = end;
  }
  return sorted;
}

/** The read-only views the command line lists (issue list, activity), in cli.md's shapes. */
export class ViewsRepo {
  constructor(private readonly sql: Sql) {}

  async issues(filter: { project?: string } = {}): Promise<IssueView[]> {
    const issues = naturalOrder(await this.sql.all<Omit<IssueView, "links"> & { rowid: number }>(ISSUE_ROWS, [filter.project ?? null]));
    const byIssue = new Map<number, IssueView["links"]>();
    for (const l of await this.sql.all<{ issueId: number; integration: string; externalKey: string }>(LINK_ROWS)) {
      const list = byIssue.get(l.issueId) ?? [];
      list.push({ integration: l.integration, externalKey: l.externalKey });
      byIssue.set(l.issueId, list);
    }
    return issues.map(({ rowid, ...i }) => ({ ...i, links: byIssue.get(rowid) ?? [] }));
  }

  async activity(filter: { issue?: string; limit?: number } = {}): Promise<ActivityView[]> {
    const rows = await this.sql.all<ActivityView & { seq?: number }>(ACTIVITY_ROWS, [filter.issue ?? null, filter.limit ?? NO_LIMIT]);
    return rows.map(({ seq: _seq, ...a }) => a);
  }
}
