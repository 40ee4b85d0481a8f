import Database from "better-sqlite3";
import { migrations } from "../src/store/migrations.js";

/**
 * A store as an older hooksync left it: migrations up to version applied, one organization in it,
 * in WAL mode. With holdWal, a connection stays open with automatic checkpoints off, so the
 * organization is only in the -wal file (what a copy of the main file alone would lose): close it
 * after the test.
 */
export function storeAtSchema(path: string, version: number, o: { holdWal?: boolean } = {}): Database.Database | null {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  for (const m of migrations.filter((m) => m.version <= version)) {
    db.exec(m.sql);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(m.version, m.name, "2025-01-01T00:00:00.000Z");
  }
  db.pragma(`user_version = ${version}`);
  db.pragma("wal_checkpoint(TRUNCATE)");
  if (o.holdWal) db.pragma("wal_autocheckpoint = 0");
  db.prepare("INSERT INTO organizations (slug, name) VALUES ('old', 'Made by an older hooksync')").run();
  if (o.holdWal) return db;
  db.close();
  return null;
}
