import { randomBytes } from "node:crypto";
import { join } from "node:path";
import pg from "pg";
import { afterAll, inject, onTestFinished } from "vitest";
import type { Sql } from "../src/store/sql.js";
import { openStore, type Store } from "../src/store/store.js";
import { tempDir } from "./helpers.js";

/** The PostgreSQL server of this run (see pg-setup.ts); null when the PostgreSQL suites skip. */
export const pgUrl: string | null = inject("pgUrl");

/** The same server, another database. */
export function urlFor(admin: string, database: string): string {
  const u = new URL(admin);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: pgUrl! });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A new database, named after name, the process and a random part: runs of several files, and several runs, never share one. */
async function createDatabase(name: string): Promise<string> {
  const db = `hooksync_${name.replace(/[^a-z0-9]+/gi, "_").toLowerCase()}_${process.pid}_${randomBytes(3).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE ${db}`));
  return db;
}

const dropDatabase = (db: string) => admin((c) => c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`));

/**
 * A database of its own for one test file (or one test), dropped when the file ends. name says
 * whose it is.
 */
export async function freshDatabase(name: string): Promise<string> {
  const db = await createDatabase(name);
  afterAll(() => dropDatabase(db));
  return urlFor(pgUrl!, db);
}

export type BackendName = "sqlite" | "postgres";

/**
 * The backends a parametrized suite runs on: both, or SQLite alone when the run has no
 * PostgreSQL (pg-setup.ts said so, loudly).
 */
export const backends: BackendName[] = pgUrl ? ["sqlite", "postgres"] : ["sqlite"];

/** Where a parametrized test's store goes, on either backend (see storeTargets). */
export interface StoreTargets {
  /**
   * Where a store for this test goes, on backend, nothing in it: a new file path on SQLite (no
   * store there yet); on PostgreSQL this file's database, emptied (its schema kept, when it has one).
   * Open it, or `hooksync init` it, as a new file.
   */
  (backend: BackendName): Promise<string>;
  /** Where no store is: a new file path on SQLite; on PostgreSQL this file's database without hooksync's schema. */
  none(backend: BackendName): Promise<string>;
  /** An empty store on backend, open (SQLite's in memory), closed when the test ends. */
  open(backend: BackendName): Promise<Store>;
}

/** hooksync's tables in a database, all but the record of its schema version. */
const ROW_TABLES = "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY tablename";
/** Which of them references which. */
const REFERENCES = "SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace";
/** The sequences of the identity columns (the tables SQLite numbers itself). */
const IDENTITIES = "SELECT pg_get_serial_sequence(quote_ident(table_name), column_name) AS s FROM information_schema.columns WHERE table_schema = 'public' AND is_identity = 'YES'";
/** The trigger functions tests made (failWrites): hooksync's schema has none. */
const TEST_FUNCTIONS = "SELECT p.oid::regprocedure::text AS f FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE l.lanname = 'plpgsql' AND p.pronamespace = 'public'::regnamespace";

/**
 * The statements that empty hooksync's tables, the referencing ones first, and restart their
 * identities; empty while the database has no schema. DELETE, not TRUNCATE: on tables this small
 * it takes a tenth of the time.
 */
async function emptyingScript(client: pg.Client): Promise<string> {
  const left = new Set((await client.query<{ t: string }>(ROW_TABLES)).rows.map((r) => r.t));
  const refs = (await client.query<{ child: string; parent: string }>(REFERENCES)).rows.filter((r) => r.child !== r.parent);
  const order: string[] = [];
  while (left.size) {
    const free = [...left].filter((t) => !refs.some((r) => r.parent === t && left.has(r.child)));
    if (!free.length) throw new Error(`tables referencing each other in a cycle: ${[...left].join(", ")}`);
    for (const t of free) {
      order.push(t);
      left.delete(t);
    }
  }
  const identities = order.length ? (await client.query<{ s: string }>(IDENTITIES)).rows.map((r) => `ALTER SEQUENCE ${r.s} RESTART;`) : [];
  return [...order.map((t) => `DELETE FROM ${t};`), ...identities].join("\n");
}

/**
 * Store targets for a file parametrized over `backends` (call it at the top of the file), one per
 * test. On PostgreSQL every test of the file uses the one database made for it at the first test
 * (dropped after the file) and emptied before each test: its rows deleted, its identities
 * restarted as a new store would number them, and the triggers of failWrites gone. A new database
 * each test would cost ten times that.
 */
export function storeTargets(name: string): StoreTargets {
  const dir = tempDir();
  let files = 0;
  let database: Promise<{ name: string; url: string; client: pg.Client }> | undefined;
  /** emptyingScript's, once the schema is there. */
  let emptying = "";
  afterAll(async () => {
    dir.cleanup();
    if (!database) return;
    const { name: db, client } = await database;
    await client.end();
    await dropDatabase(db);
  });
  const ours = () =>
    (database ??= (async () => {
      const db = await createDatabase(name);
      const url = urlFor(pgUrl!, db);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return { name: db, url, client };
    })());
  const emptied = async () => {
    const { url, client } = await ours();
    for (const { f } of (await client.query<{ f: string }>(TEST_FUNCTIONS)).rows) await client.query(`DROP FUNCTION ${f} CASCADE`);
    emptying ||= await emptyingScript(client);
    if (emptying) await client.query(emptying);
    return url;
  };
  const target = (async (backend: BackendName) => (backend === "sqlite" ? join(dir.path, `store-${files++}.db`) : emptied())) as StoreTargets;
  target.none = async (backend) => {
    if (backend === "sqlite") return target(backend);
    const { url, client } = await ours();
    await client.query("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    emptying = "";
    return url;
  };
  target.open = async (backend) => {
    const store = await openStore(backend === "sqlite" ? ":memory:" : await target(backend));
    onTestFinished(() => store.close());
    return store;
  };
  return target;
}

/** What makes the store fail a write (see failWrites): a trigger on table, before each event. */
export interface Failure {
  /** The trigger's name. */
  name: string;
  table: string;
  event: "INSERT" | "DELETE";
  /** The error's message. */
  message: string;
  /** Fail only the rows this SQL condition on NEW / OLD holds for. */
  when?: string;
}

/**
 * Makes the store fail writes as a full disk or a broken store would: a trigger raising f.message,
 * in the dialect of sql's backend. Resolves to what removes it.
 */
export async function failWrites(sql: Sql, f: Failure): Promise<() => Promise<void>> {
  const when = f.when ? ` WHEN (${f.when})` : "";
  if (sql.dialect === "sqlite") {
    await sql.exec(`CREATE TRIGGER ${f.name} BEFORE ${f.event} ON ${f.table}${when} BEGIN SELECT RAISE(ABORT, '${f.message}'); END`);
    return () => sql.exec(`DROP TRIGGER ${f.name}`);
  }
  await sql.exec(`
    CREATE FUNCTION ${f.name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${f.message}'; END $$;
    CREATE TRIGGER ${f.name} BEFORE ${f.event} ON ${f.table} FOR EACH ROW${when} EXECUTE FUNCTION ${f.name}();`);
  return () => sql.exec(`DROP TRIGGER ${f.name} ON ${f.table}; DROP FUNCTION ${f.name}();`);
}
