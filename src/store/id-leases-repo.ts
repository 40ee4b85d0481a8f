import type { Sql } from "./sql.js";

const ALL = "SELECT worker, expires_at AS expiresAt FROM id_leases";
const UPSERT =
  "INSERT INTO id_leases (worker, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (worker) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at";
const EXTEND = "UPDATE id_leases SET expires_at = ? WHERE worker = ? AND holder = ?";
const FREE = "UPDATE id_leases SET holder = '', expires_at = ? WHERE worker = ? AND holder = ?";
/** PostgreSQL: two processes taking a worker at once must not both read it free. */
const LOCK_PG = "LOCK TABLE id_leases IN EXCLUSIVE MODE";

/**
 * The id_leases table: which process holds which id worker number until when (ms since the Unix
 * epoch). Each method is one short transaction of its own, never part of a caller's: a lease
 * written inside a transaction that is then rolled back (--dry-run, a failed payload's savepoint)
 * would be gone while its holder still trusted it. IdLease runs these through the store's
 * `alone`, each in a transaction of its own.
 */
export class IdLeasesRepo {
  constructor(private readonly sql: Sql) {}

  /**
   * Takes the lowest worker number below count that nobody holds or whose lease ended by now,
   * until expiresAt; undefined when all are held.
   */
  async take(holder: string, now: number, expiresAt: number, count: number): Promise<number | undefined> {
    // SQLite's write transaction already keeps every other writer out.
    if (this.sql.dialect === "postgres") await this.sql.run(LOCK_PG);
    const rows = await this.sql.all<{ worker: number; expiresAt: number }>(ALL);
    const held = new Set(rows.flatMap((r) => (r.expiresAt > now ? [r.worker] : [])));
    for (let worker = 0; worker < count; worker++) {
      if (held.has(worker)) continue;
      await this.sql.run(UPSERT, [worker, holder, expiresAt]);
      return worker;
    }
    return undefined;
  }

  /** Moves the holder's lease to expiresAt; false when the row is no longer the holder's. */
  async renew(worker: number, holder: string, expiresAt: number): Promise<boolean> {
    return (await this.sql.run(EXTEND, [expiresAt, worker, holder])) === 1;
  }

  /**
   * Gives the worker number up from freeFrom on: just past the last id's millisecond, so the next
   * holder's ids (from its clock, at freeFrom or later) come after every id of this one.
   */
  async release(worker: number, holder: string, freeFrom: number): Promise<void> {
    await this.sql.run(FREE, [freeFrom, worker, holder]);
  }
}
