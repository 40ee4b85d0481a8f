import Database from "better-sqlite3";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { StoreError } from "../errors.js";
import { latestVersion, migrations } from "./migrations.js";
import { backUp, readOnlyDir, readOnlyFile } from "./store-file.js";
import { needsUpgrade, newerStore, type UpgradeOptions } from "./upgrade.js";

export type Db = Database.Database;

/** mustExist also refuses a missing file. */
export interface OpenOptions extends UpgradeOptions {
  readonly?: boolean;
}

export const BUSY_TIMEOUT_MS = 60_000;

/** SQLITE_BUSY or one of its extended codes: another connection held a lock past busy_timeout. */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

const noStore = (path: string) =>
  new StoreError(`no store at ${resolve(path)}`, "'hooksync init' creates one there, given the same --db / HOOKSYNC_DB; or fix the path");

export function openDb(path: string, opts: OpenOptions = {}): Db {
  const onDisk = path !== ":memory:";
  if (onDisk && (opts.mustExist || opts.readonly) && !existsSync(path)) throw noStore(path);
  if (onDisk && !opts.readonly) {
    // A directory without write access matters only when the file is still to be made there.
    const problem = readOnlyFile(path) ?? (existsSync(path) ? null : readOnlyDir(path));
    if (problem) throw problem;
    createPrivately(path);
  }
  let db: Db;
  try {
    db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (err) {
    throw new StoreError(`cannot open the store ${path}: ${(err as Error).message}`, "check --db / HOOKSYNC_DB");
  }
  try {
    if (!opts.readonly) db.pragma("journal_mode = WAL");
    // Readers (WAL: only around a checkpoint or recovery) wait this long; a writer's BEGIN waits
    // without it, off the thread (SqliteBackend.beginWrite), however long the others hold the lock.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma("foreign_keys = ON");
    // In WAL mode NORMAL is safe against a crash of the process; replay's input is the durable
    // copy to run again, and the receiver makes its commits durable with WalSync before answering.
    db.pragma("synchronous = NORMAL");
    if (!opts.readonly) upgrade(db, path, opts);
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    const denied = onDisk && isReadOnlyError(err) ? (readOnlyFile(path) ?? readOnlyDir(path)) : null;
    if (denied) throw denied;
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
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, "wx", 0o600));
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
      throw readOnlyDir(path) ?? new StoreError(`cannot create the store ${path}: ${(err as Error).message}`, "check the directory exists and is writable");
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

/** SQLite could not write the file or make its -wal / -shm beside it. */
const isReadOnlyError = (err: unknown): boolean => /^SQLITE_(READONLY|CANTOPEN|PERM)/.test(String((err as { code?: unknown }).code ?? ""));

/**
 * Brings a store to the latest schema. A store made by an older hooksync is copied to
 * <path>.bak-v<N> first and the migration is announced, since an older hooksync refuses the store
 * afterwards; with migrate false it is refused instead. A new file (schema 0) just gets the schema.
 */
function upgrade(db: Db, path: string, opts: OpenOptions): void {
  const version = schemaVersion(db);
  const copy = `${path}.bak-v${version}`;
  const slow = migrations.filter((m) => m.version > version && m.rebuilds).map((m) => m.version);
  const note = slow.length ? `; schema ${slow.join(", ")} rebuilds tables, which takes a while on a big store` : "";
  const terms = { location: path === ":memory:" ? path : resolve(path), named: "path", keep: `a copy is kept at ${copy} and `, kept: `a copy is kept at ${copy}${note}` };
  if (needsUpgrade(version, { ...opts, mustExist: opts.mustExist && path !== ":memory:" }, terms) && version > 0) backUp(db, copy);
  migrate(db);
}

export function migrate(db: Db, now: () => Date = () => new Date()): number[] {
  const current = schemaVersion(db);
  if (current > latestVersion) throw newerStore(current);
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
