import { StoreError } from "../errors.js";
import type { IdLeasesRepo } from "./id-leases-repo.js";
import { MAX_WORKER, type WorkerSource } from "./ids.js";

export interface IdLeaseOptions {
  /** Names this process in id_leases: unique per process (host, pid and a random part). */
  holder: string;
  /** Milliseconds since the Unix epoch. */
  now: () => number;
  /** Blocks the thread (the store's callers are synchronous) while every worker is leased. */
  sleep: (ms: number) => void;
  /** One line for the user, said once when a wait for a free worker passes a second. */
  log: (line: string) => void;
  /** Runs fn as one immediate transaction of its own, waiting for the write lock as long as it takes. */
  alone: <T>(fn: () => T) => T;
  /** Whether the connection is inside a caller's transaction now. */
  inTransaction: () => boolean;
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
  private readonly ttl: number;
  private readonly renewEvery: number;

  constructor(
    private readonly repo: IdLeasesRepo,
    private readonly o: IdLeaseOptions,
  ) {
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
  prepare(): void {
    if (this.worker !== undefined && this.expiresAt - this.o.now() > this.ttl - this.renewEvery) return;
    if (this.worker !== undefined && this.renew()) return;
    const started = this.o.now();
    let backoff = FIRST_BACKOFF_MS;
    let said = false;
    for (;;) {
      const now = this.o.now();
      const expiresAt = now + this.ttl;
      const worker = this.o.alone(() => this.repo.take(this.o.holder, now, expiresAt, WORKERS));
      if (worker !== undefined) return this.hold(worker, expiresAt);
      if (!said && now - started >= SAY_WAITING_AFTER_MS) {
        said = true;
        this.o.log(
          `hooksync: waiting for a free id worker (all ${WORKERS} of this store's are leased by other hooksync processes writing it; at most ${WORKERS} write at once)`,
        );
      }
      this.o.sleep(backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  /** Whether a transaction starting now may hand out ids under the lease: half its time is left. */
  fresh(): boolean {
    return this.worker !== undefined && this.expiresAt - this.o.now() >= this.ttl / 2;
  }

  workerAt(ms: number): number {
    if (this.worker === undefined || ms >= this.expiresAt) {
      // Inside a transaction the lease cannot be written safely: fresh() gave that transaction
      // half the lease's time, so only one that ran for over half a minute gets here.
      if (this.o.inTransaction()) {
        throw new StoreError("the id worker lease ran out during one transaction", "a write transaction ran for over half a minute; run it again");
      }
      this.prepare();
      if (ms >= this.expiresAt) throw new StoreError("the id clock ran a lease's length ahead of time", "more ids were asked for than 128 a millisecond can give");
    }
    this.lastIdMs = Math.max(this.lastIdMs, ms);
    return this.worker!;
  }

  /** Gives the worker number back (Store.close); ids handed out so far stay this process's alone. */
  release(): void {
    this.stopTimer();
    const worker = this.worker;
    if (worker === undefined) return;
    this.worker = undefined;
    this.o.alone(() => this.repo.release(worker, this.o.holder, this.lastIdMs + 1));
  }

  /** Renews the lease held; false (and no lease held) when it was lost to another process. */
  private renew(): boolean {
    const now = this.o.now();
    const expiresAt = now + this.ttl;
    if (this.o.alone(() => this.repo.renew(this.worker!, this.o.holder, expiresAt))) {
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
    this.timer = setInterval(() => {
      if (this.worker !== undefined && !this.o.inTransaction()) this.renew();
    }, this.renewEvery);
    this.timer.unref();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
