/**
 * The one way the repositories reach a database, whichever backend holds the store.
 *
 * SQL is written once, in the part of SQLite's dialect PostgreSQL also speaks: `?` placeholders,
 * `INSERT ... ON CONFLICT (...) DO NOTHING / DO UPDATE`, `RETURNING`, standard functions. The
 * PostgreSQL backend numbers the placeholders and quotes camelCase column aliases (PostgreSQL
 * folds unquoted names to lower case; SQLite keeps them). Where the dialects really differ (the
 * outbox's `FOR UPDATE SKIP LOCKED`, advisory locks), a repository branches on `dialect`, in one
 * place. Booleans are INTEGER 0/1 and times ISO text or epoch milliseconds in both.
 */
export type SqlValue = string | number | bigint | Buffer | null;

export type Dialect = "sqlite" | "postgres";

/** One scope of a connection: the store outside any transaction, or one transaction. */
export interface Sql {
  readonly dialect: Dialect;
  all<T>(text: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T>(text: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Runs a write; resolves to how many rows it changed. */
  run(text: string, params?: readonly SqlValue[]): Promise<number>;
  /** Runs a script of statements without parameters, as written (migrations, store copy). */
  exec(script: string): Promise<void>;
}

/** A transaction's scope: its statements, and savepoints inside it. */
export interface TxSql extends Sql {
  /** False once the database rolled the whole transaction back on its own (SQLite after a disk error). */
  readonly open: boolean;
  /** Runs fn as one unit inside the transaction: if fn throws, only its writes are undone. */
  savepoint<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * "write": the default. "snapshot": reads only, every one of them from one consistent state of
 * the store while others go on writing (store copy); a write inside fails.
 */
export type TxMode = "write" | "snapshot";

/** A store's database: a SQLite file or a PostgreSQL database. */
export interface Backend {
  readonly dialect: Dialect;
  /** Where the store is, as said to the user (a path, or a URL without its password). */
  readonly location: string;
  /** The SQLite file, for what only a file has (WAL sync, backups); undefined on PostgreSQL. */
  readonly file?: string;
  /** PostgreSQL: the most connections this process holds. */
  readonly poolSize?: number;
  /** Statements outside any transaction (each its own, autocommitted). */
  readonly sql: Sql;
  /**
   * Runs fn in one write transaction: committed when fn resolves, rolled back when it throws. On
   * SQLite, transactions of one process run one at a time and the store's other statements wait
   * for them; on PostgreSQL each has a connection of its own from the pool.
   */
  transaction<T>(fn: (tx: TxSql) => Promise<T>, mode?: TxMode): Promise<T>;
  /** The schema version the store is at (0: no hooksync schema). */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Promise.all for statements asked for at once, waiting for every one of them to end before it
 * throws the first error: the caller's savepoint or transaction is undone only once none of them
 * can still run. Written out, as replay runs it for every payload: Promise.allSettled's result
 * objects cost it a few per cent.
 */
export function allSettled<T>(values: readonly Promise<T>[]): Promise<T[]> {
  return new Promise((resolve, reject) => {
    let left = values.length;
    const out: T[] = new Array(left);
    let failed: { error: unknown } | undefined;
    const settle = () => {
      if (--left === 0) failed ? reject(failed.error) : resolve(out);
    };
    if (left === 0) resolve(out);
    values.forEach((value, i) =>
      value.then(
        (v) => {
          out[i] = v;
          settle();
        },
        (error: unknown) => {
          failed ??= { error };
          settle();
        },
      ),
    );
  });
}
