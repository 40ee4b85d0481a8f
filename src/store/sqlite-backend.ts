import type Database from "better-sqlite3";
import { BUSY_TIMEOUT_MS, type Db, isBusy, schemaVersion } from "./db.js";
import type { Backend, Sql, SqlValue, TxMode, TxSql } from "./sql.js";

const NO_BUSY_WAIT = "PRAGMA busy_timeout = 0";
const BUSY_WAIT = `PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`;
/** A writer waiting for the lock looks again after 1, 2, 4 ... ms, then every this many. */
const MAX_LOCK_POLL_MS = 20;

/**
 * A store in a SQLite file, through better-sqlite3. Statements run synchronously under the async
 * interface: each is prepared once, by its text, and a call costs a resolved promise more than it
 * did. One connection serves the process, so its transactions run one at a time (a gate), and a
 * statement outside them waits for the one open to end rather than slipping into it.
 */
export class SqliteBackend implements Backend {
  readonly dialect = "sqlite" as const;
  readonly sql: Sql;
  private readonly statements = new Map<string, Database.Statement>();
  /** Settles when the transaction open now ends; undefined while none is. */
  private gate: Promise<void> | undefined;
  private savepoints = 0;

  constructor(
    readonly db: Db,
    readonly location: string,
    readonly file: string | undefined,
  ) {
    const outside = async <T>(run: () => T): Promise<T> => {
      while (this.gate) await this.gate;
      return run();
    };
    this.sql = {
      dialect: "sqlite",
      all: (text, params) => outside(() => this.all(text, params)),
      get: (text, params) => outside(() => this.get(text, params)),
      run: (text, params) => outside(() => this.run(text, params)),
      exec: (script) => outside(() => void this.db.exec(script)),
    };
    this.tx = this.txScope();
  }

  async schemaVersion(): Promise<number> {
    return schemaVersion(this.db);
  }

  async transaction<T>(fn: (tx: TxSql) => Promise<T>, mode: TxMode = "write"): Promise<T> {
    while (this.gate) await this.gate;
    let end!: () => void;
    this.gate = new Promise<void>((resolve) => (end = resolve));
    try {
      // A snapshot is a deferred transaction: in WAL mode its first read fixes what it sees, and
      // writers go on meanwhile.
      if (mode === "snapshot") this.control("BEGIN");
      else await this.beginWrite();
      try {
        const result = await fn(this.tx);
        if (this.db.inTransaction) this.control("COMMIT");
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.control("ROLLBACK");
        throw err;
      }
    } finally {
      this.gate = undefined;
      end();
    }
  }

  /**
   * BEGIN IMMEDIATE (a writer never upgrades from a read lock), waiting its turn however long
   * other connections hold the write lock, without blocking the thread: SQLite's busy handler
   * would sleep inside the call, and serve's requests, timers and other transactions with it
   * (even the one holding the lock, when it is another connection of this process).
   */
  private async beginWrite(): Promise<void> {
    for (let wait = 1; ; wait = Math.min(wait * 2, MAX_LOCK_POLL_MS)) {
      this.statement(NO_BUSY_WAIT).get();
      try {
        this.control("BEGIN IMMEDIATE");
        return;
      } catch (err) {
        if (!isBusy(err)) throw err;
      } finally {
        this.statement(BUSY_WAIT).get();
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** The transaction's scope: its statements skip the gate it holds. */
  private readonly tx: TxSql;

  private txScope(): TxSql {
    const db = this.db;
    return {
      dialect: "sqlite",
      all: async (text, params) => this.all(text, params),
      get: async (text, params) => this.get(text, params),
      run: async (text, params) => this.run(text, params),
      exec: async (script) => void this.db.exec(script),
      savepoint: async (fn) => {
        const name = `sp${++this.savepoints}`;
        try {
          this.control(`SAVEPOINT ${name}`);
          try {
            const result = await fn();
            this.control(`RELEASE ${name}`);
            return result;
          } catch (err) {
            // A disk error may have rolled the whole transaction back already.
            if (this.db.inTransaction) {
              this.control(`ROLLBACK TO ${name}`);
              this.control(`RELEASE ${name}`);
            }
            throw err;
          }
        } finally {
          this.savepoints--;
        }
      },
      get open() {
        return db.inTransaction;
      },
    };
  }

  private statement(text: string): Database.Statement {
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }

  /**
   * A transaction control statement, prepared once like any other: replay opens and releases a
   * savepoint per payload, and compiling them each time cost it several percent.
   */
  private control(text: string): void {
    this.statement(text).run();
  }

  private all<T>(text: string, params: readonly SqlValue[] = []): T[] {
    return this.statement(text).all(...params) as T[];
  }

  private get<T>(text: string, params: readonly SqlValue[] = []): T | undefined {
    return this.statement(text).get(...params) as T | undefined;
  }

  private run(text: string, params: readonly SqlValue[] = []): number {
    return this.statement(text).run(...params).changes;
  }
}
