import { FAILED } from "./deliveries-repo.js";
import type { Sql } from "./sql.js";

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
 * Rows read per statement. A batch stops at its byte budget, and the rest of the page it stopped
 * in was read for nothing (see WINDOW): a few rows, not a batch's worth.
 */
const PAGE = 10;

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
const REMOVE = `DELETE FROM deliveries WHERE id = ?`;
const STRIP_ROW = `UPDATE deliveries SET body = NULL, headers = '{}', pruned_at = ? WHERE id = ?`;

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
      const want = Math.min(PAGE, limit.rows - rows.length);
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
    const batch: PruneBatch = { deleted: 0, stripped: 0, last: rows.at(-1)?.id ?? after, more: rows.length === limit.rows || bytes >= limit.bytes };
    for (const { id, action } of rows) {
      if (action === DELETE) {
        batch.deleted++;
        if (!rule.dryRun) await this.sql.run(REMOVE, [id]);
      } else if (action === STRIP) {
        batch.stripped++;
        if (!rule.dryRun) await this.sql.run(STRIP_ROW, [rule.prunedAt, id]);
      }
    }
    return batch;
  }
}
