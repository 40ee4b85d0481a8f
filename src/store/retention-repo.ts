import { FAILED } from "./deliveries-repo.js";
import type { Dialect, Sql } from "./sql.js";

/** What one batch did. */
export interface PruneBatch {
  deleted: number;
  stripped: number;
  /** The last id looked at: the next batch starts after it. */
  last: number;
  /** False once the range is exhausted. */
  more: boolean;
}

/** How much one batch may look at: rows, and body bytes (freeing a 1 MiB body reads its 256 pages). */
export interface BatchLimit {
  rows: number;
  bytes: number;
}

export interface PruneRule {
  keepFailed: boolean;
  dryRun: boolean;
  /** Written to pruned_at on the rows kept as stubs. */
  prunedAt: string;
}


const KEEP = 0;
const DELETE = 1;
const STRIP = 2;

/**
 * Rows read per statement. On SQLite a batch stops at its byte budget, and the rest of the page it
 * stopped in was read for nothing (see WINDOW): a few rows, not a batch's worth. PostgreSQL keeps
 * a big body's size beside it (TOAST), so a page reads no body, and each statement is a round
 * trip: a batch's worth at once.
 */
const PAGE: Record<Dialect, number> = { sqlite: 10, postgres: 1000 };

// Pending deliveries wait to be applied; a stub is already as small as it gets. A delivery
// that activity points at keeps its row (the activity names it) without body and headers.
// length() of a blob reads no overflow page; outcome, verdict and pruned_at sit after the body,
// so reading them walks its overflow pages.
const WINDOW = `
  SELECT id, length(body) AS bytes, CASE
      WHEN pruned_at IS NOT NULL OR outcome = 'pending' OR (? = 1 AND ${FAILED}) THEN ${KEEP}
      WHEN EXISTS (SELECT 1 FROM activity a WHERE a.delivery_id = d.id) THEN ${STRIP}
      ELSE ${DELETE} END AS action
  FROM deliveries d WHERE id > ? AND id < ? ORDER BY id LIMIT ?`;
/**
 * The ids of a batch as one parameter, a JSON array, so a batch is one statement: on PostgreSQL a
 * statement is a round trip, and a backlog of a million rows took one each. The dialects spell
 * the array's rows differently; ids are below 2^53, exact in JSON.
 */
const IDS: Record<Dialect, string> = {
  sqlite: `SELECT value FROM json_each(?)`,
  postgres: `SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(? AS json))`,
};
const withIds = (make: (ids: string) => string): Record<Dialect, string> => ({ sqlite: make(IDS.sqlite), postgres: make(IDS.postgres) });
const REMOVE = withIds((ids) => `DELETE FROM deliveries WHERE id IN (${ids})`);
const STRIP_ROWS = withIds((ids) => `UPDATE deliveries SET body = NULL, headers = '{}', pruned_at = ? WHERE id IN (${ids})`);

/** Retention of the delivery log (issue 12 item 3); the caller gives each batch its transaction. */
export class RetentionRepo {
  constructor(private readonly sql: Sql) {}

  /** The deliveries with after < id < below, up to the limit, pruned (or only counted, dry run). */
  async pruneBatch(after: number, below: number, limit: BatchLimit, rule: PruneRule): Promise<PruneBatch> {
    // Read a few rows at a time along the primary key (keyset: after the last row read), and left
    // at the byte budget: the rows past it must not be read (see WINDOW).
    const rows: { id: number; action: number }[] = [];
    let bytes = 0;
    for (let open = true; open && rows.length < limit.rows; ) {
      const want = Math.min(PAGE[this.sql.dialect], limit.rows - rows.length);
      const page = await this.sql.all<{ id: number; action: number; bytes: number | null }>(WINDOW, [
        rule.keepFailed ? 1 : 0,
        rows.at(-1)?.id ?? after,
        below,
        want,
      ]);
      open = page.length === want;
      for (const row of page) {
        rows.push(row);
        if (row.action !== KEEP) bytes += row.bytes ?? 0;
        if (bytes >= limit.bytes) {
          open = false;
          break;
        }
      }
    }
    const deleted = rows.filter((r) => r.action === DELETE).map((r) => r.id);
    const stripped = rows.filter((r) => r.action === STRIP).map((r) => r.id);
    if (!rule.dryRun && deleted.length > 0) await this.sql.run(REMOVE[this.sql.dialect], [JSON.stringify(deleted)]);
    if (!rule.dryRun && stripped.length > 0) await this.sql.run(STRIP_ROWS[this.sql.dialect], [rule.prunedAt, JSON.stringify(stripped)]);
    return { deleted: deleted.length, stripped: stripped.length, last: rows.at(-1)?.id ?? after, more: rows.length === limit.rows || bytes >= limit.bytes };
  }
}
