import { randomInt } from "node:crypto";
import { type Db, type OpenOptions, openDb } from "./db.js";
import { MAX_REGION, SnowflakeIds } from "./ids.js";
import { DeliveriesRepo } from "./deliveries-repo.js";
import { IntegrationsRepo } from "./integrations-repo.js";
import { JiraUsersRepo } from "./jira-users-repo.js";
import { OutboxRepo } from "./outbox-repo.js";
import { ReadMemo } from "./read-memo.js";
import { LinksRepo } from "./links-repo.js";
import { SubscriptionsRepo } from "./subscriptions-repo.js";
import { SyncRepo } from "./sync-repo.js";

/** Raised inside a transaction to roll it back on purpose (--dry-run); never escapes runUndoable. */
class Rollback extends Error {}

/** Runs fn through a transaction wrapper; with rollback, undoes its writes but keeps its result. */
function runUndoable<T>(wrap: (body: () => void) => void, fn: () => T, rollback: boolean): T {
  let result!: T;
  try {
    wrap(() => {
      result = fn();
      if (rollback) throw new Rollback();
    });
  } catch (err) {
    if (!(err instanceof Rollback)) throw err;
  }
  return result;
}

export class Store {
  private syncRepo?: SyncRepo;
  private integrationsRepo?: IntegrationsRepo;
  /** One generator per open store, so ids stay strictly increasing across its writers. */
  readonly ids = new SnowflakeIds(randomInt(MAX_REGION + 1));
  /** Made once: better-sqlite3 builds a wrapper per transaction() call, measurable per payload. */
  private readonly tx;
  private readonly memo = new ReadMemo();
  private deliveriesRepo?: DeliveriesRepo;
  private subscriptionsRepo?: SubscriptionsRepo;
  private jiraUsersRepo?: JiraUsersRepo;
  private outboxRepo?: OutboxRepo;
  private linksRepo?: LinksRepo;

  constructor(
    readonly db: Db,
    readonly path: string,
  ) {
    this.tx = db.transaction((fn: () => unknown) => fn());
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

  /**
   * Runs fn in one immediate transaction (a writer never upgrades from a read lock, so
   * concurrent writers wait on busy_timeout instead of failing with SQLITE_BUSY). With
   * rollback, fn's writes are undone but its result is returned: --dry-run.
   */
  inTransaction<T>(fn: () => T, rollback = false): T {
    return runUndoable((body) => this.tx.immediate(body), fn, rollback);
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

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export function openStore(path: string, opts?: OpenOptions): Store {
  return new Store(openDb(path, opts), path);
}
