import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { DeliveriesRepo } from "./deliveries-repo.js";
import { IdLease } from "./id-lease.js";
import { IdLeasesRepo } from "./id-leases-repo.js";
import { SnowflakeIds } from "./ids.js";
import { IntegrationsRepo } from "./integrations-repo.js";
import { JiraUsersRepo } from "./jira-users-repo.js";
import { JiraWebhookAuthRepo } from "./jira-webhook-auth-repo.js";
import { LinksRepo } from "./links-repo.js";
import { OutboxRepo } from "./outbox-repo.js";
import { ProjectsRepo } from "./projects-repo.js";
import { ReadMemo } from "./read-memo.js";
import { RetentionRepo } from "./retention-repo.js";
import type { Backend, Dialect, Sql, TxSql } from "./sql.js";
import { StatusMapsRepo } from "./status-maps-repo.js";
import { SubscriptionsRepo } from "./subscriptions-repo.js";
import { SyncRepo } from "./sync-repo.js";
import { type OpenTarget, openBackend, type StoreOptions } from "./open.js";
import { ViewsRepo } from "./views.js";

export type { StoreOptions } from "./open.js";

/** Raised inside a transaction to roll it back on purpose (--dry-run); never escapes runUndoable. */
class Rollback extends Error {}

/** Raised as a write transaction begins when its wait for the lock ate the id lease: begin again. */
class LeaseDue extends Error {}

/**
 * Whether to undo a transaction's writes: always (--dry-run), never, or as its result says (an
 * import that found problems).
 */
export type RollbackWhen<T> = boolean | ((result: T) => boolean);

/** Runs fn through a transaction wrapper; with rollback, undoes its writes but keeps its result. */
async function runUndoable<T>(wrap: (body: () => Promise<void>) => Promise<unknown>, fn: () => Promise<T>, rollback: RollbackWhen<T>): Promise<T> {
  let result!: T;
  try {
    await wrap(async () => {
      result = await fn();
      if (rollback === true || (typeof rollback === "function" && rollback(result))) throw new Rollback();
    });
  } catch (err) {
    if (!(err instanceof Rollback)) throw err;
  }
  return result;
}

/** What every scope of one open store shares: the backend, the id generator and its lease, the read memo. */
interface Shared {
  backend: Backend;
  ids: SnowflakeIds;
  /** The lease once made: a store opened read-only, or one not yet migrated, never touches id_leases. */
  held?: IdLease;
  makeLease: () => IdLease;
}

/**
 * The store, reached only through its repositories. A Store is a scope: the one openStore gives
 * runs each statement on its own; inTransaction hands its callback another Store, bound to the
 * transaction, and everything inside must go through that one (on SQLite the outer scope waits
 * for the transaction to end, so using it inside would wait forever).
 */
export class Store {
  private syncRepo?: SyncRepo;
  private integrationsRepo?: IntegrationsRepo;
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

  private constructor(
    private readonly shared: Shared,
    /** This scope's statements. */
    readonly sql: Sql,
    private readonly tx?: TxSql,
    /** Each transaction keeps its own reads: on PostgreSQL several run at once. */
    private readonly memo = new ReadMemo(),
  ) {}

  /** A store over an open backend: its lease and ids made once, for every scope. */
  static over(backend: Backend, opts: StoreOptions = {}): Store {
    const makeLease = (): IdLease =>
      new IdLease({
        holder: opts.holder ?? `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`,
        now: opts.now ?? Date.now,
        sleep: opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
        log: opts.log ?? (() => {}),
        alone: (fn) => backend.transaction((tx) => fn(new IdLeasesRepo(tx))),
      });
    const shared: Shared = {
      backend,
      ids: new SnowflakeIds({ workerAt: (ms) => (shared.held ??= makeLease()).workerAt(ms) }, opts.now),
      makeLease,
    };
    return new Store(shared, backend.sql);
  }

  get dialect(): Dialect {
    return this.shared.backend.dialect;
  }

  /** Where the store is, as said to the user: a path, or a URL without its password. */
  get location(): string {
    return this.shared.backend.location;
  }

  /** The SQLite file (WAL sync, backups); undefined on PostgreSQL. */
  get file(): string | undefined {
    return this.shared.backend.file;
  }

  /** PostgreSQL: the most connections this process holds; undefined on SQLite (one connection). */
  get poolSize(): number | undefined {
    return this.shared.backend.poolSize;
  }

  /** One generator per open store, so ids stay strictly increasing across its writers. */
  get ids(): SnowflakeIds {
    return this.shared.ids;
  }

  /**
   * This process's id worker lease, made when first needed: a store opened read-only, or one not
   * yet migrated, never touches id_leases.
   */
  get idLease(): IdLease {
    return (this.shared.held ??= this.shared.makeLease());
  }

  get sync(): SyncRepo {
    return (this.syncRepo ??= new SyncRepo(this.sql, this.ids, this.memo));
  }

  get integrations(): IntegrationsRepo {
    return (this.integrationsRepo ??= new IntegrationsRepo(this.sql, this.memo));
  }

  get deliveries(): DeliveriesRepo {
    return (this.deliveriesRepo ??= new DeliveriesRepo(this.sql, this.ids));
  }

  get subscriptions(): SubscriptionsRepo {
    return (this.subscriptionsRepo ??= new SubscriptionsRepo(this.sql));
  }

  get jiraUsers(): JiraUsersRepo {
    return (this.jiraUsersRepo ??= new JiraUsersRepo(this.sql));
  }

  get outbox(): OutboxRepo {
    return (this.outboxRepo ??= new OutboxRepo(this.sql, this.ids));
  }

  get links(): LinksRepo {
    return (this.linksRepo ??= new LinksRepo(this.sql));
  }

  get projects(): ProjectsRepo {
    return (this.projectsRepo ??= new ProjectsRepo(this.sql));
  }

  get views(): ViewsRepo {
    return (this.viewsRepo ??= new ViewsRepo(this.sql));
  }

  get retention(): RetentionRepo {
    return (this.retentionRepo ??= new RetentionRepo(this.sql));
  }

  get jiraWebhookAuth(): JiraWebhookAuthRepo {
    return (this.jiraWebhookAuthRepo ??= new JiraWebhookAuthRepo(this.sql, this.memo));
  }

  get statusMaps(): StatusMapsRepo {
    return (this.statusMapsRepo ??= new StatusMapsRepo(this.sql));
  }

  /** The schema version the store is at. */
  schemaVersion(): Promise<number> {
    return this.shared.backend.schemaVersion();
  }

  /** Whether this scope is a transaction the database has not rolled back on its own. */
  get transactionOpen(): boolean {
    return this.tx?.open ?? false;
  }

  /**
   * Runs fn in one write transaction, handing it the Store bound to it; while other writers hold
   * the lock it waits its turn, however long. The id lease is taken or renewed before, in a
   * transaction of its own, and checked once the transaction has begun. Inside a transaction this
   * is a savepoint. With rollback, fn's writes are undone but its result is returned: --dry-run,
   * or a predicate on it.
   */
  async inTransaction<T>(fn: (tx: Store) => Promise<T>, rollback: RollbackWhen<T> = false): Promise<T> {
    if (this.tx) return this.savepoint(fn, rollback);
    const { backend } = this.shared;
    let scope!: Store;
    for (;;) {
      await this.idLease.prepare();
      try {
        return await runUndoable(
          (body) =>
            backend.transaction(async (tx) => {
              if (!this.idLease.fresh()) throw new LeaseDue();
              scope = new Store(this.shared, tx, tx);
              await body();
            }),
          () => fn(scope),
          rollback,
        );
      } catch (err) {
        if (!(err instanceof LeaseDue)) throw err;
      }
    }
  }

  /**
   * Runs fn in a transaction that only reads, all of it from one consistent state of the store
   * while other processes go on writing (store copy). It takes no id lease.
   */
  snapshot<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.tx) throw new Error("Store.snapshot() begins a transaction of its own");
    return this.shared.backend.transaction((tx) => fn(new Store(this.shared, tx, tx)), "snapshot");
  }

  /**
   * Runs fn as one unit inside this transaction (a SAVEPOINT): if fn throws, only its writes are
   * undone. Replay applies a batch of payloads per transaction this way, each payload still
   * all-or-nothing. With rollback, fn's writes are undone even when it succeeds.
   */
  savepoint<T>(fn: (tx: Store) => Promise<T>, rollback: RollbackWhen<T> = false): Promise<T> {
    const tx = this.tx;
    if (!tx) throw new Error("Store.savepoint() needs a transaction");
    // Replay takes this path once a payload: without a rollback to ask for, nothing to wrap.
    if (rollback === false) return tx.savepoint(() => fn(this));
    return runUndoable((body) => tx.savepoint(body), () => fn(this), rollback);
  }

  /**
   * Runs fn, inside this transaction, with the configuration it reads kept until fn ends (see
   * ReadMemo): for applying payloads, which never write it.
   */
  applying<T>(fn: () => Promise<T>): Promise<T> {
    return this.memo.during(this.tx !== undefined, fn);
  }

  /** Gives the id worker back, then closes the connection. */
  async close(): Promise<void> {
    if (this.tx) throw new Error("close the store from outside its transactions");
    await this.shared.held?.release();
    await this.shared.backend.close();
  }
}

export async function openStore(target: OpenTarget, opts?: StoreOptions): Promise<Store> {
  const backend = await openBackend(target, opts);
  return Store.over(backend, opts);
}
