import { randomInt } from "node:crypto";
import { realpathSync } from "node:fs";
import { StoreError, UsageError } from "../errors.js";
import type { SqlValue } from "./sql.js";
import type { Store } from "./store.js";

/**
 * Every table of the store with the columns that order it, parents before children so each row's
 * references exist when it is written. schema_migrations is each store's own; id_leases belong to
 * the processes writing a store, not to its data.
 */
const TABLES: readonly { name: string; key: readonly string[]; identity?: true }[] = [
  { name: "organizations", key: ["id"], identity: true },
  { name: "projects", key: ["id"], identity: true },
  { name: "users", key: ["id"], identity: true },
  { name: "members", key: ["user_id", "organization_id"] },
  { name: "member_projects", key: ["user_id", "project_id"] },
  { name: "integrations", key: ["id"], identity: true },
  { name: "integration_organizations", key: ["integration_id", "organization_id"] },
  { name: "sync_settings", key: ["organization_id", "integration_id"] },
  { name: "status_mappings", key: ["integration_id", "external_project"] },
  { name: "issues", key: ["id"], identity: true },
  { name: "links", key: ["integration_id", "external_key", "issue_id"] },
  { name: "deliveries", key: ["id"] },
  { name: "activity", key: ["id"] },
  { name: "subscriptions", key: ["integration_id", "remote_id"] },
  { name: "jira_users", key: ["integration_id", "user_key"] },
  { name: "outbox", key: ["id"] },
  { name: "notify_channels", key: ["kind"] },
  { name: "discord_messages", key: ["issue_id"] },
  { name: "revisions", key: ["integration_id", "external_key", "field"] },
  { name: "jira_webhook_auth", key: ["integration_id"] },
];

/** Rows read and written at a time: memory stays bounded however big the store. */
const PAGE = 500;
/** Both backends take at least this many parameters in one statement. */
const MAX_PARAMS = 30_000;

export interface CopyResult {
  from: string;
  to: string;
  /** Rows copied, per table, in the order written. */
  tables: { table: string; rows: number }[];
  rows: number;
  /** Rows the target held before, deleted with --force. */
  replaced: number;
}

type Row = Record<string, SqlValue>;

/** One SQLite file however its path is spelled (./a.db, sqlite:a.db, an absolute path, a link); else one location. */
const sameStore = (a: Store, b: Store): boolean =>
  a.location === b.location || (a.file !== undefined && b.file !== undefined && realpathSync(a.file) === realpathSync(b.file));

/**
 * PostgreSQL: one database however its URL is spelled (localhost or 127.0.0.1, a socket, other
 * parameters): an advisory lock the source's transaction holds, the target's cannot take, as such
 * locks belong to a database. Copying a database onto itself with --force would delete what its
 * receivers wrote since the source's snapshot began.
 */
async function sameDatabase(source: Store, target: Store): Promise<boolean> {
  if (source.dialect !== "postgres" || target.dialect !== "postgres") return false;
  const key = [randomInt(2 ** 31), randomInt(2 ** 31)];
  await source.sql.get("SELECT pg_advisory_xact_lock(CAST(? AS INTEGER), CAST(? AS INTEGER)) AS locked", key);
  return !(await target.sql.get<{ got: boolean }>("SELECT pg_try_advisory_xact_lock(CAST(? AS INTEGER), CAST(? AS INTEGER)) AS got", key))!.got;
}

const count = async (s: Store, table: string): Promise<number> => (await s.sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))!.n;

/**
 * Copies every row of one store into another, whichever their backends: read from one snapshot
 * of the source (which others may go on writing), written in one transaction of the target, each
 * table's row count checked before it commits. A target that holds anything is refused unless
 * force, which replaces what it holds in the same transaction: a failed copy leaves it as it was.
 */
export async function copyStore(from: Store, to: Store, opts: { force: boolean }): Promise<CopyResult> {
  if (sameStore(from, to)) throw new UsageError(`the source and the target are the same store: ${from.location}`, "name another target");
  const [fromVersion, toVersion] = [await from.schemaVersion(), await to.schemaVersion()];
  if (fromVersion !== toVersion) {
    throw new StoreError(`the source is at schema ${fromVersion} and the target at ${toVersion}`, "run 'hooksync init' on the older one first");
  }
  return from.snapshot((source) =>
    to.inTransaction(async (target) => {
      if (await sameDatabase(source, target)) throw new UsageError(`the source and the target are the same store: ${from.location}`, "name another target");
      let replaced = 0;
      for (const t of TABLES) replaced += await count(target, t.name);
      if (replaced > 0 && !opts.force) {
        throw new UsageError(`the target store ${to.location} is not empty (${replaced} rows)`, "copy into an empty store, or add --force to replace everything it holds");
      }
      for (const t of [...TABLES].reverse()) await target.sql.run(`DELETE FROM ${t.name}`);
      const tables: CopyResult["tables"] = [];
      for (const t of TABLES) {
        const rows = await copyTable(source, target, t.name, t.key);
        const there = await count(target, t.name);
        if (there !== rows) throw new StoreError(`copying ${t.name}: ${rows} rows read but ${there} in the target`, "nothing was written; report this");
        if (t.identity && target.dialect === "postgres") {
          // Rows came with their ids: the identity must go on after the highest.
          await target.sql.get(`SELECT setval(pg_get_serial_sequence('${t.name}', 'id'), COALESCE((SELECT MAX(id) FROM ${t.name}), 0) + 1, false)`);
        }
        tables.push({ table: t.name, rows });
      }
      return { from: from.location, to: to.location, tables, rows: tables.reduce((n, t) => n + t.rows, 0), replaced };
    }),
  );
}

/** Pages through the source table in key order; a single-column key pages by value, others by offset (small tables). */
async function copyTable(source: Store, target: Store, table: string, key: readonly string[]): Promise<number> {
  const order = key.join(", ");
  let copied = 0;
  let after: SqlValue | undefined;
  for (;;) {
    const page =
      key.length === 1
        ? await source.sql.all<Row>(
            after === undefined ? `SELECT * FROM ${table} ORDER BY ${order} LIMIT ?` : `SELECT * FROM ${table} WHERE ${order} > ? ORDER BY ${order} LIMIT ?`,
            after === undefined ? [PAGE] : [after, PAGE],
          )
        : await source.sql.all<Row>(`SELECT * FROM ${table} ORDER BY ${order} LIMIT ? OFFSET ?`, [PAGE, copied]);
    if (page.length === 0) return copied;
    await insertRows(target, table, page);
    copied += page.length;
    after = page[page.length - 1]![key[0]!];
    if (page.length < PAGE) return copied;
  }
}

async function insertRows(target: Store, table: string, rows: Row[]): Promise<void> {
  const columns = Object.keys(rows[0]!);
  const perStatement = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    const tuple = `(${columns.map(() => "?").join(", ")})`;
    const text = `INSERT INTO ${table} (${columns.join(", ")}) VALUES ${chunk.map(() => tuple).join(", ")}`;
    await target.sql.run(
      text,
      chunk.flatMap((r) => columns.map((c) => r[c] ?? null)),
    );
  }
}
