import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { describe, expect, it, onTestFinished } from "vitest";
import type { DeliveryStart } from "../../src/store/deliveries-repo.js";
import { pgMigrations, migrationName } from "../../src/store/pg-migrations.js";
import { openStore } from "../../src/store/store.js";
import { tempDir } from "../helpers.js";
import { storeAtSchema } from "../old-store.js";
import { backends, type BackendName, freshDatabase } from "../pg.js";

// Deliveries as a schema 4 store holds them: one identity applied twice (two receivers before
// the advisory lock could do that), one pending, one ignored.
const ROWS: [id: number, identity: string, outcome: string][] = [
  [10, "sub:dup", "applied"],
  [11, "sub:dup", "applied"],
  [12, "sub:pending", "pending"],
  [13, "sub:ignored", "ignored"],
];
const SEED = [
  `INSERT INTO integrations (id, provider, external_id, name, webhook_secret) VALUES (1, 'vsts', 'coll', 'c', 's')`,
  ...ROWS.map(
    ([id, identity, outcome]) =>
      `INSERT INTO deliveries (id, received_at, source, route, provider, integration_id, identity, headers, verdict, outcome, changes)
       VALUES (${id}, '2026-01-01T00:00:00.000Z', 'serve', '/hooks/vsts', 'vsts', 1, '${identity}', '{}', 200, '${outcome}', '[]')`,
  ),
];

// Made while the file is collected, so its drop is registered with the file's hooks.
const pgDatabase = backends.includes("postgres") ? await freshDatabase("redelivery_claims") : undefined;

/** A store at schema 4 holding SEED; its --db target. */
async function schema4(backend: BackendName): Promise<string> {
  if (backend === "sqlite") {
    const dir = tempDir();
    onTestFinished(dir.cleanup);
    const path = join(dir.path, "old.db");
    storeAtSchema(path, 4);
    const db = new Database(path);
    for (const s of SEED) db.exec(s);
    db.close();
    return path;
  }
  const url = pgDatabase!;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(pgMigrations[0]!.sql);
    for (const v of pgMigrations[0]!.covers) {
      await client.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [v, migrationName(v), "2025-01-01T00:00:00.000Z"]);
    }
    for (const s of SEED) await client.query(s);
  } finally {
    await client.end();
  }
  return url;
}

const start = (identity: string): DeliveryStart => ({
  receivedAt: "2026-02-01T00:00:00.000Z",
  source: "serve",
  route: "/hooks/vsts",
  provider: "vsts",
  identity,
  externalKey: "5",
  headers: {},
  body: null,
  bodySize: null,
  bodySha256: null,
});

describe.each(backends)("migration 5 (redelivery claims) on %s", (backend) => {
  it("6.2 gives each applied or pending identity to its first delivery, so their redeliveries are told apart from then on", async () => {
    const store = await openStore(await schema4(backend));
    onTestFinished(() => store.close());
    expect(await store.schemaVersion()).toBe(5);
    const begin = (identity: string) => store.inTransaction((tx) => tx.deliveries.begin(start(identity), 1));
    expect(await begin("sub:dup")).toEqual({ held: 10 });
    expect(await begin("sub:pending")).toEqual({ held: 12 });
    expect(await begin("sub:ignored")).toEqual({ id: expect.any(Number) });
  });
});
