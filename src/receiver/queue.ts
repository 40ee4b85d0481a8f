import type { Store } from "../store/store.js";
import { WalSync } from "../store/wal-sync.js";

/**
 * The receiver's delivery queue: group commit, durability, and order where it matters.
 *
 * Group commit: the writes queued while the event loop was busy run in one transaction, in the
 * order they were queued, and each learns its result only once that transaction is on disk. The
 * WAL sync runs off the event loop, so the next batch is applied while the disk works, and one
 * sync serves every batch committed before it started. A write that fails alone fails alone; when
 * SQLite has rolled the whole transaction back, every write of the batch fails.
 *
 * Order: deliveries for one external issue are queued in arrival order, each once the one
 * before it is queued (not committed); deliveries for other issues do not wait for them, so a
 * slow Jira user lookup holds back only its own issue.
 */
export class DeliveryQueue {
  private queued: { write: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly wal: WalSync;

  constructor(private readonly store: Store) {
    this.wal = WalSync.open(store.path);
  }

  /** Runs write in the next batch's transaction; resolves once that transaction is durable. */
  commit<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.queued.length === 0) setImmediate(() => this.flush());
      this.queued.push({ write, resolve: resolve as (v: unknown) => void, reject });
    });
  }

  /**
   * Runs step after every earlier step of the same key has finished (null: no order to keep).
   * A step returns once its write is queued, not committed, so the chain never waits on the disk.
   */
  inOrder<T>(key: string | null, step: () => Promise<T>): Promise<T> {
    if (key === null) return step();
    const next = (this.chains.get(key) ?? Promise.resolve()).then(step);
    const tail = next.catch(() => {});
    this.chains.set(key, tail);
    void tail.then(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    });
    return next;
  }

  private flush(): void {
    const batch = this.queued;
    this.queued = [];
    type Result = { ok: true; value: unknown } | { ok: false; error: unknown };
    const settle = (results: Result[]) =>
      batch.forEach((b, i) => {
        const r = results[i]!;
        if (r.ok) b.resolve(r.value);
        else b.reject(r.error);
      });
    let results: Result[];
    try {
      results = this.store.inTransaction(() =>
        this.store.applying(() =>
          batch.map(({ write }): Result => {
            try {
              return { ok: true, value: write() };
            } catch (error) {
              if (!this.store.transactionOpen) throw error;
              return { ok: false, error };
            }
          }),
        ),
      );
    } catch (error) {
      return settle(batch.map(() => ({ ok: false, error })));
    }
    this.wal.sync().then(
      () => settle(results),
      (error: unknown) => settle(batch.map(() => ({ ok: false, error }))),
    );
  }

  close(): void {
    this.wal.close();
  }
}
