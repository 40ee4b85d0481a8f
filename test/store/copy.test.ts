import { readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreError, UsageError } from "../../src/errors.js";
import { signJwt } from "../../src/providers/jira/jwt.js";
import { startServer } from "../../src/receiver/server.js";
import { copyStore } from "../../src/store/copy.js";
import type { SqlValue } from "../../src/store/sql.js";
import { openStore, type Store } from "../../src/store/store.js";
import { ROOT, run, tempDir } from "../helpers.js";
import { freshDatabase, pgUrl } from "../pg.js";

const dir = tempDir();
afterAll(dir.cleanup);
let n = 0;
const sqlitePath = () => join(dir.path, `store-${n++}.db`);

// Databases of this file, made up front (freshDatabase drops them when the file ends).
const pg = pgUrl
  ? {
      copy: await freshDatabase("copy_roundtrip"),
      refuses: await freshDatabase("copy_refuses"),
      drops: await freshDatabase("copy_drops"),
      same: await freshDatabase("copy_same"),
      pgToPg: await freshDatabase("copy_pg_to_pg"),
      paged: await freshDatabase("copy_paged"),
    }
  : null;

const PAYLOADS = join(ROOT, "examples", "payloads");
const VSTS_ID = "c12d0eb8-e382-443b-9f9c-c52cba5014c2";
const DEMO_VSTS_SECRET = "demo-vsts-secret-change-me";
const DEMO_JIRA_SECRET = "demo-jira-secret-change-me";
const payload = (name: string) => readFileSync(join(PAYLOADS, name));

/** What the demo lacks: another organization, text that is hard to carry, a user without a name, outbound sync on. */
const EXTRA = {
  organizations: [{ slug: "globex", name: `Globex "Ünïcødé" — 🚀 O'Brien & Sons` }],
  projects: [{ slug: "ops", organization: "globex", name: "Ops\\Infra" }],
  users: [
    { email: "Zoe.Upper@Example.COM", name: null, verified: false },
    { email: "jane.doe@example.com", name: "Jane Doe", verified: true },
  ],
  members: [{ user: "jane.doe@example.com", organization: "globex", projects: ["ops"] }],
  integrations: [
    {
      provider: "vsts",
      externalId: VSTS_ID,
      name: "fabrikam-fiber-inc",
      // Nothing listens there: a push fails at once and stays queued.
      baseUrl: "http://127.0.0.1:9/fabrikam-fiber-inc",
      organizations: ["acme", "globex"],
      webhookSecret: DEMO_VSTS_SECRET,
    },
  ],
  sync: [{ organization: "acme", integration: VSTS_ID, inboundAssignee: true, inboundStatus: true, outboundAssignee: true, outboundStatus: true }],
  issues: [{ id: "OPS-1", project: "ops", title: "Tab\there,\nnewline; quote ' \" backslash \\ and 𝄞 ✓", status: "resolved", assignee: null }],
  links: [{ issue: "OPS-1", integration: VSTS_ID, externalKey: "7" }],
};

async function ok(argv: string[], env: Record<string, string> = {}): Promise<void> {
  const r = await run(argv, { env });
  expect(r.code, `hooksync ${argv.join(" ")}: ${r.stderr}`).toBe(0);
}

/**
 * A SQLite store with rows in every table, each made the way hooksync makes it: the demo import
 * and more, a Discord channel, deliveries served (applied, refused, a body that is not UTF-8),
 * payloads replayed, a push queued after failing; then what only a tracker's answers write
 * (subscriptions, Jira users and webhook auth, a Discord message), through the repositories.
 */
async function storeWithEveryTable(): Promise<string> {
  const db = sqlitePath();
  const env = { HOOKSYNC_CONFIG_DIR: join(dir.path, `config-${n}`) };
  await ok(["init", "--demo", "--db", db]);
  const extra = join(dir.path, `extra-${n}.json`);
  writeFileSync(extra, JSON.stringify(EXTRA));
  await ok(["import", extra, "--db", db]);
  // On this machine, where nothing listens: no notification leaves it.
  await ok(["notify", "discord", "--no-check", "--webhook-url", "http://127.0.0.1:9/api/webhooks/123456789/abcdefgh-token", "--db", db], env);

  const store = await openStore(db);
  const errors: Error[] = [];
  try {
    const server = await startServer(
      store,
      { host: "127.0.0.1", port: 0, bodyLimit: 1 << 20, requestTimeout: 5000, maxConnections: 64, maxBufferedBytes: 1 << 24, pendingIntervalMs: 60_000 },
      { now: () => new Date(), log: () => {}, onError: (err) => errors.push(err) },
    );
    try {
      const post = async (path: string, body: Buffer, headers: Record<string, string>) =>
        (await fetch(server.url + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body })).status;
      expect(await post("/hooks/vsts", payload("01-vsts-reassign-and-start.json"), { "shared-secret": DEMO_VSTS_SECRET })).toBe(200);
      expect(await post("/hooks/vsts", payload("02-vsts-git-push.json"), { "shared-secret": "wrong" })).toBe(401);
      expect(await post("/hooks/vsts", Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x80, 0x7d]), { "shared-secret": DEMO_VSTS_SECRET })).toBe(400);
      expect(await post(`/hooks/jira/${signJwt({ id: "jira-acme" }, DEMO_JIRA_SECRET)}`, payload("03-jira-assign-jane.json"), {})).toBe(200);
    } finally {
      await server.close();
    }
    expect(errors).toEqual([]);
    const vsts = (await store.integrations.all()).find((i) => i.provider === "vsts")!;
    const jira = (await store.integrations.all()).find((i) => i.provider === "jira")!;
    const at = "2026-01-02T03:04:05.000Z";
    await store.inTransaction(async (tx) => {
      await tx.subscriptions.record(vsts.id, { remoteId: "sub-1", eventType: "workitem.updated", url: "https://hooks.example.test/hooks/vsts", secretSha256: "ab".repeat(32) }, at);
      await tx.subscriptions.record(jira.id, { remoteId: "42", eventType: "jira:issue_updated", url: "https://hooks.example.test/hooks/jira/${jwt}", secretSha256: null }, at);
      await tx.jiraUsers.remember(jira.id, "JIRAUSER10600", "bob.smith@example.com", at);
      await tx.jiraUsers.remember(jira.id, "hidden", null, at);
      await tx.jiraWebhookAuth.set(jira.id, { mode: "signature", bothUntil: Date.parse(at) + 86_400_000 });
      const issue = await tx.sql.get<{ id: number }>("SELECT id FROM issues WHERE key = ?", ["BACKEND-1"]);
      await tx.outbox.rememberDiscordMessage(issue!.id, "123456789", "1180000000000000001", at);
    });
  } finally {
    await store.close();
  }
  await ok(["replay", PAYLOADS, "--db", db]);
  // A local change pushed to work item 5 and to Discord: no token, nothing listening, so both fail and stay queued with their errors.
  const assigned = await run(["assign", "BACKEND-1", "jane.doe@example.com", "--db", db], { env });
  expect(assigned.stderr).toMatch(/2 pushes stay queued/);
  return db;
}

type Row = Record<string, SqlValue>;
/** Each store's own, not its data (see copy.ts). */
const NOT_DATA = new Set(["id_leases", "schema_migrations"]);

/** The store's tables, from its catalog: a table copy.ts forgot would show here. */
async function tablesOf(store: Store): Promise<string[]> {
  const rows =
    store.dialect === "sqlite"
      ? await store.sql.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      : await store.sql.all<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
  return rows
    .map((r) => r.name)
    .filter((t) => !NOT_DATA.has(t))
    .sort();
}

/** Every row of every table, in one order whatever the backend. */
async function dump(target: string): Promise<Record<string, Row[]>> {
  const store = await openStore(target);
  try {
    const out: Record<string, Row[]> = {};
    for (const t of await tablesOf(store)) {
      const rows = (await store.sql.all<Row>(`SELECT * FROM ${t}`)).map((r) => ({ ...r }));
      const key = (r: Row) => JSON.stringify(r);
      out[t] = rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    }
    return out;
  } finally {
    await store.close();
  }
}

/** copyStore from one store to another, each opened (and the target made) as `store copy` does. */
async function copy(from: string, to: string, opts = { force: false }) {
  const source = await openStore(from, { mustExist: true });
  try {
    const target = await openStore(to, { mustExist: false });
    try {
      return await copyStore(source, target, opts);
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

/** Runs SQL on a store directly (triggers and constraints a test adds to a target). */
async function exec(target: string, script: string): Promise<void> {
  const store = await openStore(target, { mustExist: false });
  try {
    await store.sql.exec(script);
  } finally {
    await store.close();
  }
}

/** A store holding other data than the source: what --force must replace, or leave alone on failure. */
async function otherStore(target: string): Promise<Record<string, Row[]>> {
  await ok(["init", "--db", target]);
  const data = join(dir.path, `other-${n++}.json`);
  writeFileSync(
    data,
    JSON.stringify({
      organizations: [{ slug: "initech", name: "Initech" }],
      projects: [{ slug: "tps", organization: "initech" }],
      issues: [{ id: "TPS-1", project: "tps", title: "Cover sheet", status: "unresolved", assignee: null }],
    }),
  );
  await ok(["import", data, "--db", target]);
  return dump(target);
}

/** Rows added past copy.ts's page of 500: deliveries page by id, links (a three-column key) by offset. */
const BULK = { deliveries: 1234, links: 1100 };

/** The source with BULK more rows, written straight into its tables. */
async function bigStore(): Promise<{ path: string; rows: Record<string, Row[]> }> {
  const path = sqlitePath();
  await copy(source, path);
  const store = await openStore(path);
  try {
    const [issue, integration] = [sourceRows.issues![0]!.id as number, sourceRows.integrations![0]!.id as number];
    await store.inTransaction(async (tx) => {
      for (let i = 0; i < BULK.deliveries; i++) {
        await tx.sql.run(
          "INSERT INTO deliveries (id, received_at, source, route, provider, headers, body, body_size, outcome, reason, changes, attempts) VALUES (?, ?, 'serve', '/hooks/vsts', 'vsts', '{}', ?, ?, 'rejected', ?, '[]', 0)",
          [4_600_000_000_000_000 + i * 4097, new Date(Date.UTC(2026, 0, 1) + i).toISOString(), Buffer.from([i % 256, 0, 255]), 3, `bulk ${i} ✓`],
        );
      }
      for (let i = 0; i < BULK.links; i++) await tx.sql.run("INSERT INTO links (issue_id, integration_id, external_key) VALUES (?, ?, ?)", [issue, integration, `BULK-${i}`]);
    });
  } finally {
    await store.close();
  }
  return { path, rows: await dump(path) };
}

let source: string;
let sourceRows: Record<string, Row[]>;
let total: number;
// In a hook, not at the top: should it fail, the file's databases are still dropped.
beforeAll(async () => {
  source = await storeWithEveryTable();
  sourceRows = await dump(source);
  total = Object.values(sourceRows).reduce((k, rows) => k + rows.length, 0);
});

describe("store copy (issue 13)", () => {
  it("starts from a store with rows in every table, a body that is not UTF-8 among them", () => {
    for (const [table, rows] of Object.entries(sourceRows)) expect(rows.length, table).toBeGreaterThan(0);
    expect(Object.keys(sourceRows)).toHaveLength(20);
    const bodies = sourceRows.deliveries!.map((d) => d.body).filter((b): b is Buffer => Buffer.isBuffer(b));
    expect(bodies.some((b) => !b.equals(Buffer.from(b.toString("utf8"))))).toBe(true);
  });

  it("copies SQLite to SQLite with identical rows in every table, counted per table", async () => {
    const to = sqlitePath();
    const r = await copy(source, to);
    expect(await dump(to)).toEqual(sourceRows);
    expect(r).toMatchObject({ from: source, to, rows: total, replaced: 0 });
    expect(Object.fromEntries(r.tables.map((t) => [t.table, t.rows]))).toEqual(Object.fromEntries(Object.entries(sourceRows).map(([t, rows]) => [t, rows.length])));
  });

  it("refuses a non-empty target without force, writing nothing, and replaces what it holds with force", async () => {
    const to = sqlitePath();
    const before = await otherStore(to);
    const held = Object.values(before).reduce((k, rows) => k + rows.length, 0);
    const err = await copy(source, to).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(err).toMatchObject({ message: `the target store ${to} is not empty (${held} rows)`, hint: "copy into an empty store, or add --force to replace everything it holds" });
    expect(await dump(to)).toEqual(before);
    const r = await copy(source, to, { force: true });
    expect(r).toMatchObject({ rows: total, replaced: held });
    expect(await dump(to)).toEqual(sourceRows);
  });

  it("leaves a SQLite target as it was when it refuses a row half-way (one transaction)", async () => {
    const to = sqlitePath();
    const before = await otherStore(to);
    // outbox comes late in the copy: every table before it has been written by then.
    await exec(to, "CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'outbox refused by the test'); END");
    await expect(copy(source, to, { force: true })).rejects.toThrow("outbox refused by the test");
    expect(await dump(to)).toEqual(before);
  });

  it("fails the row count check when a SQLite target drops rows, and keeps nothing", async () => {
    const to = sqlitePath();
    const before = await otherStore(to);
    await exec(to, "CREATE TRIGGER drop_revisions BEFORE INSERT ON revisions BEGIN SELECT RAISE(IGNORE); END");
    const err = await copy(source, to, { force: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toBe(`copying revisions: ${sourceRows.revisions!.length} rows read but 0 in the target`);
    expect(await dump(to)).toEqual(before);
  });

  it("refuses the same SQLite file as source and target however it is spelled", async () => {
    const from = sqlitePath();
    await ok(["init", "--db", from]);
    const link = join(dir.path, "link-to-it.db");
    symlinkSync(from, link);
    const spellings = [from, `sqlite:${from}`, `${dir.path}/./${relative(dir.path, from)}`, relative(process.cwd(), from), realpathSync(from), link];
    for (const to of spellings) {
      const err = await copy(from, to, { force: true }).catch((e: unknown) => e);
      expect(err, to).toBeInstanceOf(UsageError);
      expect((err as Error).message, to).toMatch(/^the source and the target are the same store: /);
    }
  });

  it("copies tables of more rows than a page, paged by id and by offset, with identical rows", async () => {
    const big = await bigStore();
    const to = sqlitePath();
    const r = await copy(big.path, to);
    expect(r.tables.find((t) => t.table === "deliveries")!.rows).toBe(sourceRows.deliveries!.length + BULK.deliveries);
    expect(r.tables.find((t) => t.table === "links")!.rows).toBe(sourceRows.links!.length + BULK.links);
    expect(await dump(to)).toEqual(big.rows);
  });

  describe.skipIf(!pg)("with PostgreSQL", () => {
    it("copies SQLite -> PostgreSQL -> SQLite with identical rows in every table", async () => {
      const there = await copy(source, pg!.copy);
      expect(there).toMatchObject({ rows: total, replaced: 0 });
      expect(await dump(pg!.copy)).toEqual(sourceRows);
      const back = sqlitePath();
      expect(await copy(pg!.copy, back)).toMatchObject({ rows: total, replaced: 0 });
      expect(await dump(back)).toEqual(sourceRows);
    });

    it("copies PostgreSQL to PostgreSQL with identical rows in every table", async () => {
      // Runs after the round trip above: pg.copy holds the source's rows.
      expect(await copy(pg!.copy, pg!.pgToPg)).toMatchObject({ rows: total, replaced: 0 });
      expect(await dump(pg!.pgToPg)).toEqual(sourceRows);
    });

    it("copies tables of more rows than a page to PostgreSQL and back with identical rows", async () => {
      const big = await bigStore();
      await copy(big.path, pg!.paged);
      expect(await dump(pg!.paged)).toEqual(big.rows);
      const back = sqlitePath();
      await copy(pg!.paged, back);
      expect(await dump(back)).toEqual(big.rows);
    });

    it("goes on numbering organizations, projects, users, integrations and issues after the copied ids", async () => {
      // Runs after the round trip above: pg.copy holds the source's rows.
      const maxId = (rows: Row[]) => Math.max(...rows.map((r) => r.id as number));
      const data = join(dir.path, "after-copy.json");
      writeFileSync(
        data,
        JSON.stringify({
          organizations: [{ slug: "umbrella", name: "Umbrella" }],
          projects: [{ slug: "labs", organization: "umbrella" }],
          users: [{ email: "new.user@example.com", name: "New", verified: true }],
          integrations: [{ provider: "jira", externalId: "jira-2", name: "Second Jira", organizations: ["umbrella"], webhookSecret: "another long secret value" }],
          issues: [{ id: "LABS-1", project: "labs", title: "After the copy", status: "unresolved", assignee: "new.user@example.com" }],
        }),
      );
      await ok(["import", data, "--db", pg!.copy]);
      const after = await dump(pg!.copy);
      for (const table of ["organizations", "projects", "users", "integrations", "issues"]) {
        const added = after[table]!.filter((r) => !sourceRows[table]!.some((s) => s.id === r.id));
        expect(added, table).toHaveLength(1);
        expect(added[0]!.id, table).toBe(maxId(sourceRows[table]!) + 1);
      }
    });

    it("leaves a PostgreSQL target as it was when a trigger or a constraint refuses a row half-way", async () => {
      const before = await otherStore(pg!.refuses);
      await exec(
        pg!.refuses,
        `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'outbox refused by the test'; END $$;
         CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse();`,
      );
      await expect(copy(source, pg!.refuses, { force: true })).rejects.toThrow("outbox refused by the test");
      expect(await dump(pg!.refuses)).toEqual(before);

      await exec(pg!.refuses, `DROP TRIGGER refuse_outbox ON outbox; ALTER TABLE activity ADD CONSTRAINT no_assigned CHECK (kind <> 'assigned') NOT VALID;`);
      await expect(copy(source, pg!.refuses, { force: true })).rejects.toThrow(/no_assigned/);
      expect(await dump(pg!.refuses)).toEqual(before);
    });

    it("fails the row count check when a PostgreSQL target drops rows, and keeps nothing", async () => {
      const before = await otherStore(pg!.drops);
      await exec(
        pg!.drops,
        `CREATE FUNCTION drop_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
         CREATE TRIGGER drop_revisions BEFORE INSERT ON revisions FOR EACH ROW EXECUTE FUNCTION drop_row();`,
      );
      const err = await copy(source, pg!.drops, { force: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toBe(`copying revisions: ${sourceRows.revisions!.length} rows read but 0 in the target`);
      expect(await dump(pg!.drops)).toEqual(before);
    });

    it("refuses the same PostgreSQL database as source and target", async () => {
      await ok(["init", "--db", pg!.same]);
      const err = await copy(pg!.same, pg!.same, { force: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(/^the source and the target are the same store: postgres:\/\//);
    });
  });
});
