import pg from "pg";
import { StoreError, StoreUnavailableError } from "../errors.js";
import { needsUpgrade } from "./upgrade.js";
import type { StoreOptions } from "./open.js";
import { migrationName, pgMigrations } from "./pg-migrations.js";
import { pgText } from "./pg-sql-text.js";
import { shownUrl } from "./shown-url.js";
import type { Backend, Sql, SqlValue, TxMode, TxSql } from "./sql.js";

/** readonly (doctor): look, never migrate; poolSize (serve's --pool-size): 10 by default. */
export type PgOpenOptions = Pick<StoreOptions, "readonly" | "mustExist" | "migrate" | "log" | "poolSize">;

export const DEFAULT_POOL_SIZE = 10;

/**
 * BIGINT (ids are 53-bit snowflakes, counts) and NUMERIC (sums) as JS numbers, as SQLite gives
 * them: every value hooksync stores fits in 53 bits.
 */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};


/** Serialization failures and deadlocks: PostgreSQL undid the transaction and asks for it again. */
const RETRYABLE = new Set(["40001", "40P01"]);
const TX_ATTEMPTS = 5;

/**
 * The connection is gone or the server will not take one: the caller answers 503 and tries again
 * later; the pool makes a new connection for the next statement.
 */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  if (["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH"].includes(code)) return true;
  if (code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03" || code === "53300") return true;
  return typeof e?.message === "string" && /Connection terminated|connection timeout|Client has encountered a connection error/i.test(e.message);
}

/** A driver error as the store's: unavailable when the connection is the trouble, else as it is. */
const asStoreError = (location: string, err: unknown): unknown =>
  err instanceof StoreUnavailableError || !isUnavailable(err) ? err : unavailable(location, err);

function unavailable(location: string, err: unknown): StoreUnavailableError {
  return new StoreUnavailableError(
    `the store ${location} is unreachable: ${(err as Error).message || String((err as { code?: unknown }).code)}`,
    "check that PostgreSQL is running and the URL in --db / HOOKSYNC_DB is right",
  );
}

type Queryable = Pick<pg.Pool | pg.PoolClient, "query">;

/**
 * PostgreSQL's text cannot hold U+0000 (SQLite's can): a payload quoting one (an event type, a
 * key, a title) would make every write of it fail, and serve answer 503 to it forever. It is
 * written as U+FFFD, the character that stands for one that cannot be kept.
 */
const storable = (v: SqlValue): SqlValue => (typeof v === "string" && v.includes("\0") ? v.replaceAll("\0", "\uFFFD") : v);

class PgScope implements Sql {
  readonly dialect = "postgres" as const;

  constructor(
    protected readonly conn: Queryable,
    protected readonly location: string,
  ) {}

  protected async query<T>(text: string, params: readonly SqlValue[]): Promise<pg.QueryResult<T & pg.QueryResultRow>> {
    try {
      const { name, text: translated } = pgText(text);
      return await this.conn.query<T & pg.QueryResultRow>({ name, text: translated, values: params.map(storable) });
    } catch (err) {
      throw asStoreError(this.location, err);
    }
  }

  async all<T>(text: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await this.query<T>(text, params)).rows;
  }

  async get<T>(text: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await this.query<T>(text, params)).rows[0];
  }

  async run(text: string, params: readonly SqlValue[] = []): Promise<number> {
    return (await this.query(text, params)).rowCount ?? 0;
  }

  async exec(script: string): Promise<void> {
    try {
      await this.conn.query(script);
    } catch (err) {
      throw asStoreError(this.location, err);
    }
  }
}

class PgTx extends PgScope implements TxSql {
  private depth = 0;
  /** A statement failed outside any savepoint: PostgreSQL refuses everything until ROLLBACK. */
  private aborted = false;

  get open(): boolean {
    return !this.aborted;
  }

  /** The statement asked for last: the next waits for it (see serial). */
  private last: Promise<unknown> = Promise.resolve();

  /**
   * Statements asked for at once (a payload's reads, its writes) run one after the other on the
   * transaction's connection, in the order asked: pg wants one query at a time per client.
   */
  private serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.last.then(run, run);
    this.last = next.catch(() => undefined);
    return next;
  }

  protected override query<T>(text: string, params: readonly SqlValue[]): Promise<pg.QueryResult<T & pg.QueryResultRow>> {
    return this.serial(async () => {
      try {
        return await super.query<T>(text, params);
      } catch (err) {
        if (this.depth === 0) this.aborted = true;
        throw err;
      }
    });
  }

  override exec(script: string): Promise<void> {
    return this.serial(() => super.exec(script));
  }

  private control(text: string): Promise<unknown> {
    return this.serial(() => this.conn.query(text));
  }

  /** COMMIT or ROLLBACK, after every statement asked for before it. */
  end(command: "COMMIT" | "ROLLBACK"): Promise<unknown> {
    return this.control(command);
  }

  async savepoint<T>(fn: () => Promise<T>): Promise<T> {
    const name = `sp${++this.depth}`;
    try {
      await this.control(`SAVEPOINT ${name}`);
      try {
        const result = await fn();
        await this.control(`RELEASE SAVEPOINT ${name}`);
        return result;
      } catch (err) {
        await this.control(`ROLLBACK TO SAVEPOINT ${name}`);
        await this.control(`RELEASE SAVEPOINT ${name}`);
        throw err;
      }
    } finally {
      this.depth--;
    }
  }
}

/**
 * A store in a PostgreSQL database, shared by any number of hooksync processes on any hosts. Each
 * transaction has a connection of its own from the pool, so a process runs several at once; a
 * COMMIT returns once the server has it on disk (synchronous_commit stays on: it is asked for).
 */
export class PgBackend implements Backend {
  readonly dialect = "postgres" as const;
  readonly file = undefined;
  readonly sql: Sql;

  private constructor(
    private readonly pool: pg.Pool,
    readonly location: string,
    readonly poolSize: number,
  ) {
    this.sql = new PgScope(pool, location);
  }

  static async open(url: string, opts: PgOpenOptions = {}): Promise<PgBackend> {
    const location = shownUrl(url);
    const poolSize = opts.poolSize ?? DEFAULT_POOL_SIZE;
    const pool = new pg.Pool({
      connectionString: url,
      max: poolSize,
      types,
      connectionTimeoutMillis: 10_000,
      // What the receiver's 200 means: the delivery is on the server's disk.
      options: "-c synchronous_commit=on",
    });
    // A connection dropped while idle in the pool: the next statement gets a new one.
    pool.on("error", () => {});
    const backend = new PgBackend(pool, location, poolSize);
    try {
      if (opts.readonly) await backend.schemaVersion();
      else await backend.upgrade(opts);
    } catch (err) {
      await pool.end().catch(() => {});
      if (err instanceof StoreError) throw err;
      if (isUnavailable(err)) throw unavailable(location, err);
      throw new StoreError(`the store ${location} is not usable: ${(err as Error).message}`, "check the URL, the database and the user's rights");
    }
    return backend;
  }

  schemaVersion(): Promise<number> {
    return versionIn(this.sql);
  }

  async transaction<T>(fn: (tx: TxSql) => Promise<T>, mode: TxMode = "write"): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let broken: Error | undefined;
      let tx: PgTx | undefined;
      const lost = (err: Error) => (broken ??= err);
      let client: pg.PoolClient;
      try {
        client = await this.connect(lost);
      } catch (err) {
        throw asStoreError(this.location, err);
      }
      try {
        await client.query(mode === "snapshot" ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN");
        tx = new PgTx(client, this.location);
        const result = await fn(tx);
        await tx.end("COMMIT");
        return result;
      } catch (err) {
        await (tx?.end("ROLLBACK") ?? client.query("ROLLBACK")).catch((e: Error) => (broken = e));
        const code = (err as { code?: unknown }).code;
        if (typeof code === "string" && RETRYABLE.has(code) && attempt < TX_ATTEMPTS) continue;
        if (isUnavailable(err)) broken = err as Error;
        throw asStoreError(this.location, err);
      } finally {
        client.off("error", lost);
        client.release(broken);
      }
    }
  }

  /**
   * A connection from the pool, its errors listened for from the moment it is handed over. The
   * server may end a connection between two statements (an administrator, a failover), even in
   * the same read as the answer that made it ready, before pool.connect()'s promise would let us
   * listen: pg then emits 'error' on the client, which the pool listens for only while the client
   * is idle, and an 'error' nobody listens for ends the process. With onError, the next statement
   * fails instead (unavailable), and the client is not given back to the pool.
   */
  private connect(onError: (err: Error) => void): Promise<pg.PoolClient> {
    return new Promise((resolve, reject) =>
      this.pool.connect((err, client) => {
        if (err || !client) return reject(err);
        client.on("error", onError);
        resolve(client);
      }),
    );
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /**
   * Brings the database to the latest schema, in one transaction, under an advisory lock so two
   * processes starting at once do not both migrate. Only `init` makes a store in a database with
   * no hooksync schema.
   */
  private async upgrade(opts: PgOpenOptions): Promise<void> {
    const version = await this.schemaVersion();
    const terms = { location: this.location, named: "URL", keep: "take a pg_dump first: ", kept: "take a pg_dump first if you may go back" };
    if (!needsUpgrade(version, opts, terms)) return;
    await this.transaction(async (tx) => {
      await tx.run("SELECT pg_advisory_xact_lock(7406853, 1)");
      const now = await versionIn(tx);
      for (const m of pgMigrations) {
        if (m.version <= now) continue;
        await tx.exec(m.sql);
        for (const v of m.covers) {
          await tx.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", [v, migrationName(v), new Date().toISOString()]);
        }
      }
    });
  }
}

async function versionIn(sql: Sql): Promise<number> {
  const table = await sql.get<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  if (!table?.t) return 0;
  return (await sql.get<{ v: number | null }>("SELECT MAX(version) AS v FROM schema_migrations"))?.v ?? 0;
}
