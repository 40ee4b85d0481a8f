import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run, runBin, tempDir } from "../helpers.js";
import { freshDatabase, pgUrl } from "../pg.js";
import { loadFixture, world } from "../world.js";

const dir = tempDir();
afterAll(dir.cleanup);
let n = 0;
const path = () => join(dir.path, `copy-${n++}.db`);

const pg = pgUrl ? { roundTrip: await freshDatabase("cli_store_copy"), bare: await freshDatabase("cli_store_bare") } : null;

/** Every table `store copy` writes, in the order it writes them (parents first). */
const TABLES = [
  "organizations",
  "projects",
  "users",
  "members",
  "member_projects",
  "integrations",
  "integration_organizations",
  "sync_settings",
  "status_mappings",
  "issues",
  "links",
  "deliveries",
  "activity",
  "subscriptions",
  "jira_users",
  "outbox",
  "notify_channels",
  "discord_messages",
  "revisions",
  "jira_webhook_auth",
];

/** The full dataset with payloads replayed on it: activity and revisions too. */
async function source() {
  const w = await world();
  const replayed = await w.replay([loadFixture("vsts-workitem-updated.json"), loadFixture("jira-issue-updated-assignee.json")]);
  expect(replayed.code, replayed.stderr).toBe(0);
  return w;
}

/** What a user sees of a store: its issues, activity and projects. */
async function seen(db: string) {
  const out: string[] = [];
  for (const argv of [["issue", "list"], ["activity"], ["project", "list"]]) {
    const r = await run([...argv, "--json", "--db", db]);
    expect(r.code, r.stderr).toBe(0);
    out.push(r.stdout);
  }
  return out;
}

interface Copied {
  from: string;
  to: string;
  tables: { table: string; rows: number }[];
  rows: number;
  replaced: number;
}

describe("hooksync store copy (issue 13)", () => {
  it("copies a store into a new SQLite file and says, on one line, how many rows of each table", async () => {
    const w = await source();
    const to = path();
    const r = await run(["store", "copy", w.db, to]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^copied (\\d+) rows from ${w.db} to ${to} \\(organizations 2, projects 3, users 6, members 7, member_projects 9, integrations 2, integration_organizations 3, sync_settings 3, status_mappings 2, issues 4, links 4, activity \\d+, revisions \\d+\\)\\n$`));
    expect(await seen(to)).toEqual(await seen(w.db));
  });

  it("--json gives from, to, every table in the order written with its rows, the total and the rows replaced", async () => {
    const w = await source();
    const to = path();
    const r = await run(["store", "copy", w.db, to, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Copied;
    expect(Object.keys(out)).toEqual(["from", "to", "tables", "rows", "replaced"]);
    expect(out).toMatchObject({ from: w.db, to, replaced: 0 });
    expect(out.tables.map((t) => t.table)).toEqual(TABLES);
    for (const t of out.tables) expect(Object.keys(t)).toEqual(["table", "rows"]);
    expect(out.rows).toBe(out.tables.reduce((k, t) => k + t.rows, 0));
    expect(out.tables.find((t) => t.table === "issues")!.rows).toBe(4);
  });

  it("refuses a target that holds anything with exit 2 and one line, and replaces what it holds with --force", async () => {
    const w = await source();
    const other = await world();
    const before = await seen(other.db);
    const held = (JSON.parse((await run(["store", "copy", other.db, path(), "--json"])).stdout) as Copied).rows;

    const refused = await run(["store", "copy", w.db, other.db]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toBe(`hooksync: the target store ${other.db} is not empty (${held} rows) (copy into an empty store, or add --force to replace everything it holds)\n`);
    expect(await seen(other.db)).toEqual(before);

    const json = await run(["store", "copy", w.db, other.db, "--json"]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({
      error: { kind: "usage", message: `the target store ${other.db} is not empty (${held} rows)`, hint: "copy into an empty store, or add --force to replace everything it holds" },
    });

    const forced = await run(["store", "copy", w.db, other.db, "--force"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(new RegExp(`; the ${held} rows it held before were replaced\\n$`));
    expect(await seen(other.db)).toEqual(await seen(w.db));
  });

  it("refuses the same store as source and target, exit 2, however its path is written", async () => {
    const w = await source();
    for (const to of [w.db, `sqlite:${w.db}`, `${w.dir}/./hooksync.db`]) {
      const r = await run(["store", "copy", w.db, to, "--force"]);
      expect(r.code, to).toBe(2);
      expect(r.stderr, to).toBe(`hooksync: the source and the target are the same store: ${w.db} (name another target)\n`);
    }
  });

  it("refuses a missing source with exit 1 and the init hint, and makes no target", async () => {
    const missing = join(dir.path, "missing.db");
    const to = path();
    const r = await run(["store", "copy", missing, to]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`hooksync: no store at ${missing} ('hooksync init' creates one there, given the same --db / HOOKSYNC_DB; or fix the path)\n`);
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(to)).toBe(false);
  });

  describe.skipIf(!pg)("with PostgreSQL", () => {
    it("copies SQLite -> PostgreSQL -> SQLite as the built CLI, showing the URL's password nowhere", async () => {
      const w = await source();
      // The server trusts loopback: the password is never checked, only carried.
      const withPassword = pg!.roundTrip.replace("postgres@", "postgres:hunter2-secret@");
      const there = await runBin(["store", "copy", w.db, withPassword]);
      expect(there.stderr).toBe("");
      expect(there.code).toBe(0);
      expect(there.stdout).toMatch(/^copied \d+ rows from .* to postgres:\/\/postgres:\*\*\*@/);
      const back = path();
      const home = await runBin(["store", "copy", withPassword, back, "--json"]);
      expect(home.code, home.stderr).toBe(0);
      expect(JSON.parse(home.stdout)).toMatchObject({ from: withPassword.replace("hunter2-secret", "***"), to: back, replaced: 0 });
      for (const r of [there, home]) expect(r.stdout + r.stderr).not.toContain("hunter2");
      expect(await seen(back)).toEqual(await seen(w.db));
      expect(await seen(pg!.roundTrip)).toEqual(await seen(w.db));
    });

    it("refuses one PostgreSQL database as source and target however its URL is spelled, exit 2, and leaves it as it was", async () => {
      const w = await source();
      expect((await run(["store", "copy", w.db, pg!.roundTrip, "--force"])).code).toBe(0);
      const other = `${pg!.roundTrip}?application_name=another-spelling`;
      const r = await run(["store", "copy", pg!.roundTrip, other, "--force"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`hooksync: the source and the target are the same store: ${pg!.roundTrip} (name another target)\n`);
      expect(await seen(pg!.roundTrip)).toEqual(await seen(w.db));
    });

    it("refuses a PostgreSQL source without a hooksync schema with exit 1 and the init hint", async () => {
      const r = await run(["store", "copy", pg!.bare, path()]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`hooksync: no hooksync schema in ${pg!.bare} ('hooksync init' creates one there, given the same --db / HOOKSYNC_DB; or fix the URL)\n`);
    });

    it("says on one line that nothing listens at a PostgreSQL target, exit 1, and leaves the source as it was", async () => {
      const w = await source();
      const before = await seen(w.db);
      const r = await run(["store", "copy", w.db, "postgres://postgres@127.0.0.1:1/x"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        "hooksync: the store postgres://postgres@127.0.0.1:1/x is unreachable: connect ECONNREFUSED 127.0.0.1:1 (check that PostgreSQL is running and the URL in --db / HOOKSYNC_DB is right)\n",
      );
      expect(await seen(w.db)).toEqual(before);
    });
  });
});

describe("--db store URLs (issue 13)", () => {
  it("takes sqlite:<path> as the file at that path, from --db and from HOOKSYNC_DB", async () => {
    const db = path();
    const init = await run(["init", "--demo", "--db", `sqlite:${db}`]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain(`store ready: ${db} `);
    expect(existsSync(db)).toBe(true);
    const byPath = await run(["issue", "list", "--json", "--db", db]);
    expect(JSON.parse(byPath.stdout)).toHaveLength(3);
    expect((await run(["issue", "list", "--json"], { env: { HOOKSYNC_DB: `sqlite:${db}` } })).stdout).toBe(byPath.stdout);
    expect((await run(["issue", "list", "--json", "--db", `sqlite://${db}`])).stdout).toBe(byPath.stdout);
    const copied = await run(["store", "copy", `sqlite:${db}`, `sqlite:${path()}`]);
    expect(copied.code, copied.stderr).toBe(0);
  });

  it.each([
    ["--db", ["issue", "list", "--db", "mysql://root@127.0.0.1/hooksync"], {}],
    ["HOOKSYNC_DB", ["issue", "list"], { HOOKSYNC_DB: "mysql://root@127.0.0.1/hooksync" }],
    ["a store copy target", ["store", "copy", "<a store>", "mysql://root@127.0.0.1/hooksync"], {}],
  ])("refuses an unknown URL scheme in %s with exit 2 and a one-line hint, making no file", async (_, argv, env) => {
    const db = path();
    expect((await run(["init", "--db", db])).code).toBe(0);
    const before = readdirSync(process.cwd());
    const r = await run(argv.map((a) => (a === "<a store>" ? db : a)), { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("hooksync: unknown store URL scheme mysql: in mysql://root@127.0.0.1/hooksync (use a file path, sqlite:<path> or postgres://user@host:5432/db)\n");
    expect(readdirSync(process.cwd())).toEqual(before);
  });

  it("refuses sqlite: without a path, exit 2", async () => {
    const r = await run(["issue", "list", "--db", "sqlite:"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("hooksync: no path in the store URL sqlite: (write sqlite:<path>, e.g. sqlite:./hooksync.db)\n");
  });
});
