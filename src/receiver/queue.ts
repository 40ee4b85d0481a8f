import type { Store } from "../store/store.js";
import { WalSync } from "../store/wal-sync.js";

/** A write waiting for its batch, and how to answer it. */
interface Queued {
  write: (tx: Store) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/**
 * The receiver's delivery queue: group commit, durability, and order where it matters.
 *
 * Group commit: the writes queued while the event loop was busy, or while the batch before was
 * being applied, run in one transaction, one after the other in the order they were queued, and
 * each learns its result only once that transaction is on disk; batches run one at a time. The
 * WAL sync runs off the event loop, so the next batch is applied while the disk works, and one
 * sync serves every batch committed before it started (SQLite; PostgreSQL gets no batches, see
 * commit). A write that fails alone fails alone; when SQLite has rolled the
 * whole transaction back, every write of the batch fails.
 *
 * Order: deliveries for one external issue are queued in arrival order, each once the one
 * before it is queued (not committed); deliveries for other issues do not wait for them, so a
 * slow Jira user lookup holds back only its own issue.
 */
export class DeliveryQueue {
  private queued: Queued[] = [];
  /** Whether batches are being applied: what is queued meanwhile is the next batch. */
  private flushing = false;
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Undefined on PostgreSQL: no WAL file to sync, its COMMIT is durable once it returns. */
  private readonly wal: WalSync | undefined;

  constructor(private readonly store: Store) {
    this.wal = store.file === undefined ? undefined : WalSync.open(store.file);
  }

  /**
   * Runs write, with the Store of the next batch's transaction; resolves once that transaction is
   * durable. PostgreSQL may run a transaction again (after a deadlock): write must change nothing
   * but the store.
   */
  commit<T>(write: (tx: Store) => Promise<T>): Promise<T> {
    // PostgreSQL: a transaction per delivery, as many at once as the pool has connections. Its
    // commits are grouped by the server, and a delivery holds only its own issue's lock, so two
    // receivers never wait on each other's batches (nor deadlock over two issues locked in turn),
    // and a write that fails fails alone.
    if (this.store.dialect === "postgres") return this.store.inTransaction((tx) => tx.applying(() => write(tx)));
    return new Promise<T>((resolve, reject) => {
      if (this.queued.length === 0 && !this.flushing) setImmediate(() => void this.flush());
      this.queued.push({ write, resolve: resolve as (v: unknown) => void, reject });
    });
  }

  /**
   * Runs step after every earlier step of the same key has finished (null: no order to keep).
   * step resolves once its write is handed to commit, with the write's answer to come. On SQLite
   * the next step of the key may then go: batches run in the order writes were queued, so the
   * chain never waits on the disk. On PostgreSQL each write is a transaction of its own, racing
   * the next for the lock: the next waits until this one's has ended.
   */
  inOrder<T extends { answer: Promise<unknown> }>(key: string | null, step: () => Promise<T>): Promise<T> {
    if (key === null) return step();
    const next = (this.chains.get(key) ?? Promise.resolve()).then(step);
    const done = this.store.dialect === "postgres" ? next.then((r) => r.answer) : next;
    const tail = done.then(
      () => {},
      () => {},
    );
    this.chains.set(key, tail);
    void tail.then(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    });
    return next;
  }

  /** Applies the batches queued, one transaction each, until none is left. */
  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queued.length > 0) {
        const batch = this.queued;
        this.queued = [];
        await this.apply(batch);
      }
    } finally {
      this.flushing = false;
    }
  }

  /** One batch in one transaction; its writes are answered once it is durable. Never throws. */
  private async apply(batch: Queued[]): Promise<void> {
    type Result = { ok: true; value: unknown } | { ok: false; error: unknown };
    const settle = (results: Result[]) =>
      batch.forEach((b, i) => {
        const r = results[i]!;
        if (r.ok) b.resolve(r.value);
        else b.reject(r.error);
      });
    let results: Result[];
    try {
      results = await this.store.inTransaction((tx) =>
        tx.applying(async () => {
          const out: Result[] = [];
          for (const { write } of batch) {
            try {
              // A savepoint each: a write that fails leaves nothing of itself in the batch.
              out.push({ ok: true, value: await tx.savepoint(() => write(tx)) });
            } catch (error) {
              if (!tx.transactionOpen) throw error;
              out.push({ ok: false, error });
            }
          }
          return out;
        }),
      );
    } catch (error) {
      return settle(batch.map(() => ({ ok: false, error })));
    }
    if (!this.wal) return settle(results);
    this.wal.sync().then(
      () => settle(results),
      (error: unknown) => settle(batch.map(() => ({ ok: false, error }))),
    );
  }

  close(): void {
    this.wal?.close();
  }
}
