import { UsageError } from "../errors.js";
import { type OpenOptions, openDb } from "./db.js";
import type { Backend } from "./sql.js";
import { SqliteBackend } from "./sqlite-backend.js";

/** Where a store is: a SQLite file (a path, or a `sqlite:` URL) or a PostgreSQL database (a `postgres://` URL). */
export type OpenTarget = string;

export type StoreTarget = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

/** What opening a store takes beyond its target: the lease's clock and waits, PostgreSQL's pool. */
export interface StoreOptions extends OpenOptions {
  now?: () => number;
  /** Waits while every id worker is leased. */
  sleep?: (ms: number) => Promise<void>;
  /** Where a migration, or a wait for a free id worker, is said (stderr in the CLI). */
  log?: (line: string) => void;
  holder?: string;
  /** PostgreSQL: the most connections this process holds. */
  poolSize?: number;
}

/**
 * `--db` / HOOKSYNC_DB as a backend and its address: `postgres://` or `postgresql://` is a
 * PostgreSQL database, `sqlite:<path>` or a plain path a SQLite file. Any other scheme is refused
 * rather than taken for a file name.
 */
export function parseTarget(target: string): StoreTarget {
  if (/^postgres(ql)?:\/\//i.test(target)) return { kind: "postgres", url: target };
  const sqlite = /^sqlite:(\/\/)?(.*)$/i.exec(target);
  if (sqlite) {
    if (!sqlite[2]) throw new UsageError(`no path in the store URL ${target}`, "write sqlite:<path>, e.g. sqlite:./hooksync.db");
    return { kind: "sqlite", path: sqlite[2] };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(target);
  if (scheme) {
    throw new UsageError(`unknown store URL scheme ${scheme[1]}: in ${target}`, "use a file path, sqlite:<path> or postgres://user@host:5432/db");
  }
  return { kind: "sqlite", path: target };
}

/** Opens (and with mustExist false, creates) the store's database and brings it to the latest schema. */
export async function openBackend(target: OpenTarget, opts: StoreOptions = {}): Promise<Backend> {
  const where = parseTarget(target);
  if (where.kind === "postgres") {
    const { PgBackend } = await import("./pg-backend.js");
    return PgBackend.open(where.url, opts);
  }
  const db = openDb(where.path, opts);
  return new SqliteBackend(db, where.path, where.path === ":memory:" ? undefined : where.path);
}
