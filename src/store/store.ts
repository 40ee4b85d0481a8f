import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { type Db, type OpenOptions, openDb, schemaVersion, waitForWriteLock } from "./db.js";
import { IdLease } from "./id-lease.js";
import { IdLeasesRepo } from "./id-leases-repo.js";
import { SnowflakeIds } from "./ids.js";
import { DeliveriesRepo } from "./deliveries-repo.js";
import { IntegrationsRepo } from "./integrations-repo.js";
import { JiraUsersRepo } from "./jira-users-repo.js";
import { JiraWebhookAuthRepo } from "./jira-webhook-auth-repo.js";
import { OutboxRepo } from "./outbox-repo.js";
import { ReadMemo } from "./read-memo.js";
import { LinksRepo } from "./links-repo.js";
import { ProjectsRepo } from "./projects-repo.js";
import { RetentionRepo } from "./retention-repo.js";
import { StatusMapsRepo } from "./status-maps-repo.js";
import { ViewsRepo } from "./views.js";
import { SubscriptionsRepo } from "./subscriptions-repo.js";
import { SyncRepo } from "./sync-repo.js";

/** Raised inside a transaction to roll it back on purpose (--dry-run); never escapes runUndoable. */
class Rollback extends Error {}

/** Raised as a write transaction begins when its wait for the lock ate the id lease: begin again. */
class LeaseDue extends Error {}

/** What the store's id lease needs from outside; openStore gives the process's own. */
export interface StoreOptions {
  now?: () => number;
  /** Blocks the thread: store calls are synchronous. */
  sleep?: (ms: number) => void;
  /** Where a wait for a free id worker is said (stderr in the CLI). */
  log?: (line: string) => void;
  holder?: string;
}

const blockFor = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/**
 * Whether to undo a transaction's writes: always (--dry-run), never, or as its result says (an
 * import that found problems).
 */
export type RollbackWhen<T> = boolean | ((result: T) => boolean);

/** Runs fn through a transaction wrapper; with rollback, undoes its writes but keeps its result. */
function runUndoable<T>(wrap: (body: () => void) => void, fn: () => T, rollback: RollbackWhen<T>): T {
  let result!: T;
  try {
    wrap(() => {
      result = fn();
      if (rollback === true || (typeof rollback === "function" && rollback(result))) throw new Rollback();
    });
  } catch (err) {
    if (!(err instanceof Rollback)) throw err;
  }
  return result;
}

export class Store {
  private syncRepo?: SyncRepo;
  private integrationsRepo?: IntegrationsRepo;
  private lease?: IdLease;
  /** One generator per open store, so ids stay strictly increasing across its writers. */
  readonly ids: SnowflakeIds;
  /** Made once: better-sqlite3 builds a wrapper per transaction() call, measurable per payload. */
  private readonly tx;
  private readonly memo = new ReadMemo();
  private deliveriesRepo?: DeliveriesRepo;
  private subscriptionsRepo?: SubscriptionsRepo;
  private jiraUsersRepo?: JiraUsersRepo;
  private outboxRepo?: OutboxRepo;
  private linksRepo?: LinksRepo;
  private projectsRepo?: ProjectsRepo;
  private viewsRepo?: ViewsRepo;
  private retentionRepo?: RetentionRepo;
  private jiraWebhookAuthRepo?: JiraWebhookAuthRepo;
  private statusMapsRepo?: StatusMapsRepo;

  constructor(
    readonly db: Db,
    readonly path: string,
    private readonly opts: StoreOptions = {},
  ) {
    this.tx = db.transaction((fn: () => unknown) => fn());
    this.ids = new SnowflakeIds({ workerAt: (ms) => this.idLease.workerAt(ms) }, opts.now);
  }

  /**
   * This process's id worker lease, made when first needed: a store opened read-only, or one not
   * yet migrated, never touches id_leases.
   */
  get idLease(): IdLease {
    return (this.lease ??= new IdLease(new IdLeasesRepo(this.db), {
      holder: this.opts.holder ?? `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`,
      now: this.opts.now ?? Date.now,
      sleep: this.opts.sleep ?? blockFor,
      log: this.opts.log ?? (() => {}),
      alone: <T>(fn: () => T) => waitForWriteLock((body: () => T) => this.tx.immediate(body) as T, fn),
      inTransaction: () => this.db.inTransaction,
    }));
  }

  get sync(): SyncRepo {
    return (this.syncRepo ??= new SyncRepo(this.db, this.ids, this.memo));
  }

  get integrations(): IntegrationsRepo {
    return (this.integrationsRepo ??= new IntegrationsRepo(this.db, this.memo));
  }

  get deliveries(): DeliveriesRepo {
    return (this.deliveriesRepo ??= new DeliveriesRepo(this.db, this.ids));
  }

  get subscriptions(): SubscriptionsRepo {
    return (this.subscriptionsRepo ??= new SubscriptionsRepo(this.db));
  }

  get jiraUsers(): JiraUsersRepo {
    return (this.jiraUsersRepo ??= new JiraUsersRepo(this.db));
  }

  get outbox(): OutboxRepo {
    return (this.outboxRepo ??= new OutboxRepo(this.db, this.ids, this.memo));
  }

  get links(): LinksRepo {
    return (this.linksRepo ??= new LinksRepo(this.db));
  }

  get projects(): ProjectsRepo {
    return (this.projectsRepo ??= new ProjectsRepo(this.db));
  }

  get views(): ViewsRepo {
    return (this.viewsRepo ??= new ViewsRepo(this.db));
  }

  get retention(): RetentionRepo {
    return (this.retentionRepo ??= new RetentionRepo(this.db));
  }

  /** The schema version the store is at (PRAGMA user_version). */
  get schemaVersion(): number {
    return schemaVersion(this.db);
  }

  /** Whether this connection has a transaction open: after a failed statement, whether SQLite rolled it all back. */
  get transactionOpen(): boolean {
    return this.db.inTransaction;
  }

  get jiraWebhookAuth(): JiraWebhookAuthRepo {
    return (this.jiraWebhookAuthRepo ??= new JiraWebhookAuthRepo(this.db, this.memo));
  }

  get statusMaps(): StatusMapsRepo {
    return (this.statusMapsRepo ??= new StatusMapsRepo(this.db));
  }

  /**
   * Runs fn in one immediate transaction (a writer never upgrades from a read lock); while other
   * writers hold the lock it waits its turn, however long (waitForWriteLock). The id lease is
   * taken or renewed before, in a transaction of its own, and checked once the lock is held. With
   * rollback, fn's writes are undone but its result is returned: --dry-run, or a predicate on it.
   */
  inTransaction<T>(fn: () => T, rollback: RollbackWhen<T> = false): T {
    if (this.db.inTransaction) return runUndoable((body) => this.tx.immediate(body), fn, rollback);
    for (;;) {
      this.idLease.prepare();
      const begin = (body: () => void) =>
        this.tx.immediate(() => {
          if (!this.idLease.fresh()) throw new LeaseDue();
          body();
        });
      try {
        return runUndoable((body) => waitForWriteLock(begin, body), fn, rollback);
      } catch (err) {
        if (!(err instanceof LeaseDue)) throw err;
      }
    }
  }

  /**
   * Runs fn as one unit inside the current transaction (a SAVEPOINT): if fn throws, only its
   * writes are undone. Replay applies a batch of payloads per transaction this way, each payload
   * still all-or-nothing. With rollback, fn's writes are undone even when it succeeds.
   */
  savepoint<T>(fn: () => T, rollback = false): T {
    return runUndoable((body) => this.tx(body), fn, rollback);
  }

  /**
   * Runs fn, inside the current transaction, with the configuration it reads kept until fn ends
   * (see ReadMemo): for applying payloads, which never write it.
   */
  applying<T>(fn: () => T): T {
    return this.memo.during(this.db.inTransaction, fn);
  }

  /** Gives the id worker back, then closes the connection. */
  close(): void {
    if (!this.db.open) return;
    this.lease?.release();
    this.db.close();
  }
}

export function openStore(path: string, opts?: OpenOptions & StoreOptions): Store {
  return new Store(openDb(path, opts), path, opts);
}
