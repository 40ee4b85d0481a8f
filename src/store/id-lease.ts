import { StoreError } from "../errors.js";
import type { IdLeasesRepo } from "./id-leases-repo.js";
import { MAX_WORKER, type WorkerSource } from "./ids.js";

export interface IdLeaseOptions {
  /** Names this process in id_leases: unique per process (host, pid and a random part). */
  holder: string;
  /** Milliseconds since the Unix epoch. */
  now: () => number;
  /** Waits while every worker is leased. */
  sleep: (ms: number) => Promise<void>;
  /** One line for the user, said once when a wait for a free worker passes a second. */
  log: (line: string) => void;
  /** Runs fn as one write transaction of its own, waiting for the write lock as long as it takes. */
  alone: <T>(fn: (repo: IdLeasesRepo) => Promise<T>) => Promise<T>;
  ttlMs?: number;
  renewEveryMs?: number;
}

export const LEASE_TTL_MS = 60_000;
export const LEASE_RENEW_EVERY_MS = 20_000;
const WORKERS = MAX_WORKER + 1;
const FIRST_BACKOFF_MS = 5;
const MAX_BACKOFF_MS = 500;
const SAY_WAITING_AFTER_MS = 1000;

/**
 * The worker number of this process's snowflake ids (see ids.ts), leased from the store so no two
 * processes writing one store at once share one, whatever their number or host (Sentry and
 * Discord lease theirs the same way). The lease is taken when the process first writes, renewed
 * every renewEveryMs by a timer that does not keep the process alive and before any write
 * transaction that finds it due, and given back on close; one that ran out (a crashed holder, or a
 * process stopped past its expiry) is free to take. An id is handed out only for a millisecond
 * before the lease's expiry as last committed, so a worker number changes hands only after the
 * last id its holder made: the next holder's ids, from its clock, come after all of them.
 *
 * Lease writes run in their own transactions, never inside a caller's, which could roll them
 * back: the write transaction the ids are for checks, once it holds the write lock, that the lease
 * still has half its time to run (a long wait for the lock may have eaten it) and otherwise starts
 * again after renewing it.
 */
export class IdLease implements WorkerSource {
  private worker: number | undefined;
  /** When the lease ends, as last committed. */
  private expiresAt = 0;
  /** The last millisecond an id was handed out for: the next holder starts after it. */
  private lastIdMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private preparing: Promise<void> | undefined;
  private readonly ttl: number;
  private readonly renewEvery: number;

  constructor(private readonly o: IdLeaseOptions) {
    this.ttl = o.ttlMs ?? LEASE_TTL_MS;
    this.renewEvery = o.renewEveryMs ?? LEASE_RENEW_EVERY_MS;
  }

  /** The worker number held now, if any (doctor, tests). */
  get held(): number | undefined {
    return this.worker;
  }

  /**
   * Takes a worker number, or renews the one held when it is due; call outside any transaction.
   * While all are held by others, waits (polling with backoff) until one is given back or runs out.
   */
  prepare(): Promise<void> {
    if (this.worker !== undefined && this.expiresAt - this.o.now() > this.ttl - this.renewEvery) return Promise.resolve();
    // Transactions beginning at once (a PostgreSQL receiver runs several) share one take or
    // renewal: each taking its own would lease a worker per transaction.
    return (this.preparing ??= this.takeOrRenew().finally(() => (this.preparing = undefined)));
  }

  private async takeOrRenew(): Promise<void> {
    if (this.worker !== undefined && (await this.renew())) return;
    const started = this.o.now();
    let backoff = FIRST_BACKOFF_MS;
    let said = false;
    for (;;) {
      const now = this.o.now();
      const expiresAt = now + this.ttl;
      const worker = await this.o.alone((repo) => repo.take(this.o.holder, now, expiresAt, WORKERS));
      if (worker !== undefined) return this.hold(worker, expiresAt);
      if (!said && now - started >= SAY_WAITING_AFTER_MS) {
        said = true;
        this.o.log(
          `hooksync: waiting for a free id worker (all ${WORKERS} of this store's are leased by other hooksync processes writing it; at most ${WORKERS} write at once)`,
        );
      }
      await this.o.sleep(backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  /** Whether a transaction starting now may hand out ids under the lease: half its time is left. */
  fresh(): boolean {
    return this.worker !== undefined && this.expiresAt - this.o.now() >= this.ttl / 2;
  }

  /**
   * Ids are made only inside a write transaction, which prepared the lease before it began; the
   * lease cannot be written inside one (a rollback would undo it), and fresh() gave the
   * transaction half the lease's time, so only one that ran for over half a minute runs out.
   */
  workerAt(ms: number): number {
    if (this.worker === undefined) throw new Error("an id was asked for outside Store.inTransaction");
    if (ms >= this.expiresAt) {
      throw new StoreError("the id worker lease ran out during one transaction", "a write transaction ran for over half a minute, or asked for more ids than 128 a millisecond give; run it again");
    }
    this.lastIdMs = Math.max(this.lastIdMs, ms);
    return this.worker!;
  }

  /** Gives the worker number back (Store.close); ids handed out so far stay this process's alone. */
  async release(): Promise<void> {
    this.stopTimer();
    const worker = this.worker;
    if (worker === undefined) return;
    this.worker = undefined;
    await this.o.alone((repo) => repo.release(worker, this.o.holder, this.lastIdMs + 1));
  }

  /** Renews the lease held; false (and no lease held) when it was lost to another process. */
  private async renew(): Promise<boolean> {
    const worker = this.worker!;
    const expiresAt = this.o.now() + this.ttl;
    if (await this.o.alone((repo) => repo.renew(worker, this.o.holder, expiresAt))) {
      this.expiresAt = expiresAt;
      return true;
    }
    this.worker = undefined;
    this.stopTimer();
    return false;
  }

  private hold(worker: number, expiresAt: number): void {
    this.worker = worker;
    this.expiresAt = expiresAt;
    if (this.timer) return;
    // A renewal is a transaction of its own: on SQLite it waits for the one open to end.
    this.timer = setInterval(() => {
      if (this.worker !== undefined) this.renew().catch(() => {});
    }, this.renewEvery);
    this.timer.unref();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
