import Database from "better-sqlite3";
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { StoreError } from "../errors.js";
import { migrations } from "./migrations.js";

export type Db = Database.Database;

export interface OpenOptions {
  readonly?: boolean;
}

export const BUSY_TIMEOUT_MS = 60_000;

/** SQLITE_BUSY or one of its extended codes: another connection held a lock past busy_timeout. */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

/**
 * Runs one immediate transaction (begin runs BEGIN IMMEDIATE, then body), starting it again for as
 * long as BEGIN finds another writer holding the lock: contention makes a writer wait its turn,
 * never fail. A busy error from inside body is not retried (body may have done other work).
 */
export function waitForWriteLock<T>(begin: (body: () => T) => T, body: () => T): T {
  for (;;) {
    let began = false;
    try {
      return begin(() => {
        began = true;
        return body();
      });
    } catch (err) {
      if (began || !isBusy(err)) throw err;
    }
  }
}

export function openDb(path: string, opts: OpenOptions = {}): Db {
  if (path !== ":memory:" && !opts.readonly) createPrivately(path);
  let db: Db;
  try {
    db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (err) {
    throw new StoreError(`cannot open the store ${path}: ${(err as Error).message}`, "check --db / HOOKSYNC_DB");
  }
  try {
    if (!opts.readonly) db.pragma("journal_mode = WAL");
    // Readers (WAL: only around a checkpoint or recovery) and each try at the write lock wait this
    // long; a writer then tries again (waitForWriteLock), however long the others hold it.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma("foreign_keys = ON");
    // In WAL mode NORMAL is safe against a crash of the process; replay's input is the durable
    // copy to run again, and the receiver makes its commits durable with WalSync before answering.
    db.pragma("synchronous = NORMAL");
    if (!opts.readonly) migrate(db);
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError(`the store ${path} is not usable: ${(err as Error).message}`, "is it a hooksync store? run 'hooksync doctor' or point --db elsewhere");
  }
  return db;
}

/**
 * Creates the file with mode 0600 before SQLite sees it; SQLite gives its -wal and -shm files the
 * database file's mode, so the secrets inside never become world-readable. A store made by an
 * older hooksync, copied, or restored with a loose mode is tightened, its -wal and -shm with it.
 */
function createPrivately(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, "wx", 0o600));
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
      throw new StoreError(`cannot create the store ${path}: ${(err as Error).message}`, "check the directory exists and is writable");
    }
  }
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if (statSync(file).mode & 0o077) chmodSync(file, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw new StoreError(`cannot make the store ${file} private: ${(err as Error).message}`, `run 'chmod 600 ${file}' as its owner`);
    }
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma("user_version", { simple: true }) as number;
}

export const latestVersion = migrations[migrations.length - 1]!.version;

export function migrate(db: Db, now: () => Date = () => new Date()): number[] {
  const current = schemaVersion(db);
  if (current > latestVersion) {
    throw new StoreError(
      `the store is at schema version ${current}, newer than this hooksync knows (${latestVersion})`,
      "upgrade hooksync",
    );
  }
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= current) continue;
    // PRAGMA foreign_keys is a no-op inside a transaction: it is switched around it.
    if (m.rebuilds) db.pragma("foreign_keys = OFF");
    try {
      db.transaction(() => {
        db.exec(m.sql);
        if (m.rebuilds && (db.pragma("foreign_key_check") as unknown[]).length > 0) {
          throw new StoreError(`migration ${m.version} would break a reference between tables`, "restore the store from a backup and report this");
        }
        db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(
          m.version,
          m.name,
          now().toISOString(),
        );
        db.pragma(`user_version = ${m.version}`);
      }).immediate();
    } finally {
      if (m.rebuilds) db.pragma("foreign_keys = ON");
    }
    applied.push(m.version);
  }
  return applied;
}
