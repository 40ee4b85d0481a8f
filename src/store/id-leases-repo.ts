import type { Db } from "./db.js";

/**
 * The id_leases table: which process holds which id worker number until when (ms since the Unix
 * epoch). Each method is one short transaction of its own, never part of a caller's: a lease
 * written inside a transaction that is then rolled back (--dry-run, a failed payload's savepoint)
 * would be gone while its holder still trusted it. The caller runs these outside any transaction
 * and through its wait for the write lock (IdLease, via the store).
 */
export class IdLeasesRepo {
  private readonly all;
  private readonly upsert;
  private readonly extend;
  private readonly free;

  constructor(db: Db) {
    this.all = db.prepare<[], { worker: number; expiresAt: number }>("SELECT worker, expires_at AS expiresAt FROM id_leases");
    this.upsert = db.prepare<[number, string, number]>(
      "INSERT INTO id_leases (worker, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (worker) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
    );
    this.extend = db.prepare<[number, number, string]>("UPDATE id_leases SET expires_at = ? WHERE worker = ? AND holder = ?");
    this.free = db.prepare<[number, number, string]>("UPDATE id_leases SET holder = '', expires_at = ? WHERE worker = ? AND holder = ?");
  }

  /**
   * Takes the lowest worker number below count that nobody holds or whose lease ended by now,
   * until expiresAt; undefined when all are held.
   */
  take(holder: string, now: number, expiresAt: number, count: number): number | undefined {
    const held = new Set(this.all.all().flatMap((r) => (r.expiresAt > now ? [r.worker] : [])));
    for (let worker = 0; worker < count; worker++) {
      if (held.has(worker)) continue;
      this.upsert.run(worker, holder, expiresAt);
      return worker;
    }
    return undefined;
  }

  /** Moves the holder's lease to expiresAt; false when the row is no longer the holder's. */
  renew(worker: number, holder: string, expiresAt: number): boolean {
    return this.extend.run(expiresAt, worker, holder).changes === 1;
  }

  /**
   * Gives the worker number up from freeFrom on: just past the last id's millisecond, so the next
   * holder's ids (from its clock, at freeFrom or later) come after every id of this one.
   */
  release(worker: number, holder: string, freeFrom: number): void {
    this.free.run(freeFrom, worker, holder);
  }
}
