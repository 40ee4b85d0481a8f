import Database from "better-sqlite3";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { migrations } from "../../src/store/migrations.js";
import { run, tempDir } from "../helpers.js";
import { storeAtSchema } from "../old-store.js";

const dir = tempDir();
afterAll(dir.cleanup);
let n = 0;
const fresh = () => join(dir.path, `case-${n++}`);
const missing = (path: string) =>
  `hooksync: no store at ${path} ('hooksync init' creates one there, given the same --db / HOOKSYNC_DB; or fix the path)\n`;

describe("a command on a missing store", () => {
  it("fails a mistyped --db with exit 1, naming the path and init, and creates nothing", async () => {
    const db = join(fresh(), "missing.db");
    mkdirSync(join(db, ".."));
    const r = await run(["issue", "list", "--db", db]);
    expect(r).toMatchObject({ code: 1, stdout: "", stderr: missing(db) });
    expect(existsSync(db)).toBe(false);
  });

  it("fails a HOOKSYNC_DB in a missing directory the same way, and makes no directory", async () => {
    const parent = fresh();
    const db = join(parent, "nested", "x.db");
    const r = await run(["activity", "--json"], { env: { HOOKSYNC_DB: db } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(missing(db));
    expect(JSON.parse(r.stdout).error).toMatchObject({ kind: "store", message: `no store at ${db}` });
    expect(existsSync(parent)).toBe(false);
  });

  it("names the absolute path when --db is relative", async () => {
    const db = join(fresh(), "typo.db");
    // A relative path resolves against the process's directory, as SQLite resolves it.
    const r = await run(["deliveries", "--db", relative(process.cwd(), db)]);
    expect(r.stderr).toBe(missing(db));
  });

  it("refuses an empty file that holds no hooksync schema, and leaves it empty", async () => {
    const db = `${fresh()}.db`;
    writeFileSync(db, "");
    const r = await run(["replay", "-", "--db", db], { stdin: "" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^hooksync: no hooksync schema in ${db} \\('hooksync init' creates one there`));
  });

  it("is created by init, directories included, then usable by the others", async () => {
    const db = join(fresh(), "a", "b", "hooksync.db");
    const init = await run(["init", "--db", db]);
    expect(init.code).toBe(0);
    expect(existsSync(db)).toBe(true);
    expect((await run(["issue", "list", "--json", "--db", db])).stdout).toBe("[]\n");
  });
});

describe("a store made by an older hooksync", () => {
  const latest = migrations[migrations.length - 1]!.version;
  const versionOf = (path: string) => {
    const db = new Database(path, { readonly: true });
    try {
      return { version: db.pragma("user_version", { simple: true }), orgs: db.prepare("SELECT slug FROM organizations ORDER BY slug DESC").pluck().all() };
    } finally {
      db.close();
    }
  };
  const rebuilds = migrations.filter((m) => m.version > 3 && m.rebuilds).map((m) => m.version);
  const announce = (db: string) =>
    `hooksync: migrating the store ${db} from schema 3 to ${latest} (a copy is kept at ${db}.bak-v3` +
    `${rebuilds.length ? `; schema ${rebuilds.join(", ")} rebuilds tables, which takes a while on a big store` : ""})\n`;

  it("is migrated by a writing command, which says so on stderr and keeps a private copy at <db>.bak-v3 first", async () => {
    const db = `${fresh()}.db`;
    storeAtSchema(db, 3);
    const r = await run(["import", "-", "--db", db], { stdin: JSON.stringify({ organizations: [{ slug: "new", name: "New" }] }) });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(announce(db));
    expect(versionOf(db)).toEqual({ version: latest, orgs: ["old", "new"] });
    expect(versionOf(`${db}.bak-v3`)).toEqual({ version: 3, orgs: ["old"] });
    expect(statSync(`${db}.bak-v3`).mode & 0o777).toBe(0o600);
    // Said once: the next run finds the store migrated.
    expect((await run(["issue", "list", "--db", db])).stderr).toBe("");
  });

  it("copies what is still in the WAL (a consistent SQLite copy, not the main file alone)", async () => {
    const db = `${fresh()}.db`;
    const holder = storeAtSchema(db, 3, { holdWal: true })!;
    try {
      expect(statSync(`${db}-wal`).size).toBeGreaterThan(0);
      expect((await run(["init", "--db", db])).code).toBe(0);
      expect(versionOf(`${db}.bak-v3`)).toEqual({ version: 3, orgs: ["old"] });
    } finally {
      holder.close();
    }
  });

  it("is refused by a read-only command, left unchanged, until --migrate is given", async () => {
    const db = `${fresh()}.db`;
    storeAtSchema(db, 3);
    const refused = await run(["issue", "list", "--db", db]);
    expect(refused).toMatchObject({ code: 1, stdout: "" });
    expect(refused.stderr).toBe(
      `hooksync: the store ${db} is at schema 3 and this hooksync needs ${latest}; a read-only command does not migrate it ` +
        `(add --migrate, or run 'hooksync init'; a copy is kept at ${db}.bak-v3 and older hooksync versions cannot open the store afterwards)\n`,
    );
    expect(versionOf(db).version).toBe(3);
    expect(existsSync(`${db}.bak-v3`)).toBe(false);

    const migrated = await run(["issue", "list", "--json", "--migrate", "--db", db]);
    expect(migrated).toMatchObject({ code: 0, stdout: "[]\n", stderr: announce(db) });
    expect(versionOf(db).version).toBe(latest);
  });

  it("is refused by every read-only command, not only issue list", async () => {
    const db = `${fresh()}.db`;
    storeAtSchema(db, 3);
    for (const argv of [["activity"], ["deliveries"], ["outbound", "list"], ["notify", "status"]]) {
      const r = await run([...argv, "--db", db]);
      expect(r.code, argv.join(" ")).toBe(1);
      expect(r.stderr, argv.join(" ")).toMatch(/a read-only command does not migrate it/);
    }
    expect(versionOf(db).version).toBe(3);
  });
});
