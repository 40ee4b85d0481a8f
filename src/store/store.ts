import { type Db, type OpenOptions, openDb } from "./db.js";
import { IntegrationsRepo } from "./integrations-repo.js";
import { SyncRepo } from "./sync-repo.js";

/** Raised inside a transaction to roll it back on purpose (--dry-run); never escapes inTransaction. */
class Rollback extends Error {}

export class Store {
  private syncRepo?: SyncRepo;
  private integrationsRepo?: IntegrationsRepo;

  constructor(
    readonly db: Db,
    readonly path: string,
  ) {}

  get sync(): SyncRepo {
    return (this.syncRepo ??= new SyncRepo(this.db));
  }

  get integrations(): IntegrationsRepo {
    return (this.integrationsRepo ??= new IntegrationsRepo(this.db));
  }

  /**
   * Runs fn in one immediate transaction (a writer never upgrades from a read lock, so
   * concurrent writers wait on busy_timeout instead of failing with SQLITE_BUSY). With
   * rollback, fn's writes are undone but its result is returned: --dry-run.
   */
  inTransaction<T>(fn: () => T, rollback = false): T {
    let result!: T;
    const tx = this.db.transaction(() => {
      result = fn();
      if (rollback) throw new Rollback();
    });
    try {
      tx.immediate();
    } catch (err) {
      if (!(err instanceof Rollback)) throw err;
    }
    return result;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export function openStore(path: string, opts?: OpenOptions): Store {
  return new Store(openDb(path, opts), path);
}
