import type { Db } from "./db.js";
import { FAILED } from "./deliveries-repo.js";

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

/** Retention of the delivery log (issue 12 item 3); the caller gives each batch its transaction. */
export class RetentionRepo {
  private readonly window;
  private readonly remove;
  private readonly strip;

  constructor(db: Db) {
    // Pending deliveries wait to be applied; a stub is already as small as it gets. A delivery
    // that activity points at keeps its row (the activity names it) without body and headers.
    // length() of a blob reads no overflow page.
    this.window = db.prepare<[number, number, number, number], { id: number; action: number; bytes: number | null }>(`
      SELECT id, length(body) AS bytes, CASE
          WHEN pruned_at IS NOT NULL OR outcome = 'pending' OR (? = 1 AND ${FAILED}) THEN ${KEEP}
          WHEN EXISTS (SELECT 1 FROM activity a WHERE a.delivery_id = d.id) THEN ${STRIP}
          ELSE ${DELETE} END AS action
      FROM deliveries d WHERE id > ? AND id < ? ORDER BY id LIMIT ?`);
    this.remove = db.prepare<[number]>(`DELETE FROM deliveries WHERE id = ?`);
    this.strip = db.prepare<[string, number]>(`UPDATE deliveries SET body = NULL, headers = '{}', pruned_at = ? WHERE id = ?`);
  }

  /** The deliveries with after < id < below, up to the limit, pruned (or only counted, dry run). */
  pruneBatch(after: number, below: number, limit: BatchLimit, rule: PruneRule): PruneBatch {
    // Stepped one row at a time and left early: outcome, verdict and pruned_at sit after the body,
    // so reading them walks its overflow pages, and rows past the byte budget must not be read.
    const rows: { id: number; action: number }[] = [];
    let bytes = 0;
    for (const row of this.window.iterate(rule.keepFailed ? 1 : 0, after, below, limit.rows)) {
      rows.push(row);
      if (row.action !== KEEP) bytes += row.bytes ?? 0;
      if (bytes >= limit.bytes) break;
    }
    const batch: PruneBatch = { deleted: 0, stripped: 0, last: rows.at(-1)?.id ?? after, more: rows.length === limit.rows || bytes >= limit.bytes };
    for (const { id, action } of rows) {
      if (action === DELETE) {
        batch.deleted++;
        if (!rule.dryRun) this.remove.run(id);
      } else if (action === STRIP) {
        batch.stripped++;
        if (!rule.dryRun) this.strip.run(rule.prunedAt, id);
      }
    }
    return batch;
  }
}
