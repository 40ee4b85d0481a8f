import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, inject } from "vitest";

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

/**
 * A database of its own for one test file (or one test), dropped when the file ends: runs of
 * several files, and several runs, never share one. name says whose it is.
 */
export async function freshDatabase(name: string): Promise<string> {
  const db = `hooksync_${name.replace(/[^a-z0-9]+/gi, "_").toLowerCase()}_${process.pid}_${randomBytes(3).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE ${db}`));
  afterAll(async () => {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`));
  });
  return urlFor(pgUrl!, db);
}

export type BackendName = "sqlite" | "postgres";

/**
 * The backends a parametrized suite runs on: both, or SQLite alone when the run has no
 * PostgreSQL (pg-setup.ts said so, loudly).
 */
export const backends: BackendName[] = pgUrl ? ["sqlite", "postgres"] : ["sqlite"];
