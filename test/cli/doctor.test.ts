import { chmodSync, mkdirSync, openSync, writeSync, closeSync, statSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzureDevOps, type AzureDevOpsFake } from "../fakes/azure-devops.js";
import { defaultDbPath } from "../../src/cli/context.js";
import { run, tempDir } from "../helpers.js";
import { freshDatabase, pgUrl } from "../pg.js";
import { expectNoSecrets, jiraWorld, trackerStore } from "../world.js";

const pgStore = pgUrl ? await freshDatabase("doctor") : null;

const json = (stdout: string) => JSON.parse(stdout) as { ok: boolean; checks: { check: string; verdict: string; detail: string }[] };

describe("doctor", () => {
  const dir = tempDir();
  afterAll(dir.cleanup);
  let n = 0;
  const fresh = async (urls: { vsts?: string; jira?: string } = {}) => {
    const d = join(dir.path, String(n++));
    mkdirSync(d);
    return { db: await trackerStore(d, urls), env: { HOOKSYNC_CONFIG_DIR: join(d, "config") } };
  };

  it("fails without a store, and creates none", async () => {
    const db = join(dir.path, "missing.db");
    const r = await run(["doctor", "--db", db, "--json"]);
    expect(r.code).toBe(1);
    expect(json(r.stdout).checks[0]).toEqual({ check: "store", verdict: "fail", detail: `no store at ${db} (run 'hooksync init')` });
    expect(() => statSync(db)).toThrow();
  });

  it("names the default store path when neither --db nor HOOKSYNC_DB chooses one", async () => {
    const r = await run(["doctor", "--offline", "--json"], { env: { HOOKSYNC_CONFIG_DIR: join(dir.path, "no-config") } });
    expect(json(r.stdout).checks).toContainEqual({
      check: "store path",
      verdict: "ok",
      detail: `${defaultDbPath()} (the default; --db or HOOKSYNC_DB choose another)`,
    });
    expect(defaultDbPath()).toMatch(/hooksync.db$/);
  });

  it("passes a healthy store offline, one verdict a line", async () => {
    const { db, env } = await fresh();
    const r = await run(["doctor", "--db", db, "--offline"], { env });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^ok    store +.*: integrity ok, schema version (\d+) of \1, journal wal$/);
    expect(lines[1]).toMatch(/^ok    store file +mode 0600$/);
    expect(lines[2]).toBe(`ok    store path   ${db} (from --db; the default is ${defaultDbPath()})`);
    expect(lines[3]).toMatch(/^ok    credentials +none stored/);
  });

  it("fails a store others can read with exit 1, saying the chmod that fixes it", async () => {
    const { db, env } = await fresh();
    chmodSync(db, 0o644);
    const r = await run(["doctor", "--db", db, "--offline", "--json"], { env });
    expect(r.code).toBe(1);
    expect(json(r.stdout)).toMatchObject({ ok: false });
    // Opening it read-only made SQLite create the -wal and -shm with the file's mode: each is a failing line.
    for (const file of [db, `${db}-wal`, `${db}-shm`]) {
      expect(json(r.stdout).checks).toContainEqual({ check: "store file", verdict: "fail", detail: `${file} is mode 0644: others can read webhook secrets (chmod 600 ${file})` });
    }
    expect(r.stderr).toBe("hooksync: 3 checks failed (each says what to do)\n");
    // doctor only reports: the store is tightened by the next command that writes to it.
    expect(statSync(db).mode & 0o777).toBe(0o644);
  });

  it("fails a damaged store", async () => {
    const { db, env } = await fresh();
    const fd = openSync(db, "r+");
    const size = statSync(db).size;
    // Every page but the header page becomes garbage: the schema survives, the b-trees do not.
    for (let at = 4096; at < size; at += 4096) writeSync(fd, Buffer.alloc(4096, 0x41), 0, 4096, at);
    closeSync(fd);
    const r = await run(["doctor", "--db", db, "--offline", "--json"], { env });
    expect(r.code).toBe(1);
    expect(json(r.stdout).checks[0]).toMatchObject({ check: "store", verdict: "fail" });
    expect(r.stderr).toMatch(/^hooksync: 1 check failed \(each says what to do\)$/m);
  });

  describe("trackers", () => {
    let ado: AzureDevOpsFake;
    beforeAll(async () => {
      ado = await startAzureDevOps();
    });
    afterAll(() => ado.close());

    it("checks the Azure DevOps token when AZURE_DEVOPS_EXT_PAT is set, and never prints it", async () => {
      const { db, env } = await fresh({ vsts: ado.url, jira: "http://127.0.0.1:9" });
      const pat = ado.state.pat;
      const r = await run(["doctor", "--db", db, "--json"], { env: { ...env, AZURE_DEVOPS_EXT_PAT: pat } });
      const checks = json(r.stdout).checks;
      expect(checks.find((c) => c.check.startsWith("vsts"))).toMatchObject({ verdict: "ok", detail: `${ado.url}: token accepted, a personal access token from AZURE_DEVOPS_EXT_PAT (0 webhook subscriptions in the organization)` });
      expect(checks.find((c) => c.check.startsWith("jira"))).toMatchObject({ verdict: "fail" });
      expect(r.code).toBe(1);
      expectNoSecrets(r, [pat]);
    });

    it("fails a refused token with exit 1 and the tracker's advice", async () => {
      const { db, env } = await fresh({ vsts: ado.url });
      const r = await run(["doctor", "--db", db, "--json"], { env: { ...env, AZURE_DEVOPS_EXT_PAT: "wrong-token" } });
      const vsts = json(r.stdout).checks.find((c) => c.check.startsWith("vsts"))!;
      expect(vsts.verdict).toBe("fail");
      expect(vsts.detail).toMatch(/token was refused/);
    });

    it("only checks reachability without a token", async () => {
      const { db, env } = await fresh({ vsts: ado.url });
      const r = await run(["doctor", "--db", db, "--json"], { env });
      expect(json(r.stdout).checks.find((c) => c.check.startsWith("vsts"))!.detail).toMatch(/reachable \(HTTP \d+\); set AZURE_DEVOPS_EXT_PAT to check the token too$/);
    });
  });

  describe("Jira", () => {
    const w = jiraWorld();

    it("reports who the stored credentials sign in as", async () => {
      await w.storeCredentials("admin");
      const r = await run(["doctor", "--db", w.db, "--json"], { env: w.env });
      const jira = json(r.stdout).checks.find((c) => c.check.startsWith("jira"))!;
      expect(jira).toMatchObject({ verdict: "ok" });
      expect(jira.detail).toMatch(/signed in as admin$/);
      expect(json(r.stdout).checks.find((c) => c.check === "credentials")!.detail).toMatch(/mode 0600, directory 0700$/);
    });

    it("fails a Jira that answers 503, with one bracket and the hint after a semicolon", async () => {
      w.jira.failNext({ status: 503 });
      const r = await run(["doctor", "--db", w.db, "--json"], { env: w.env });
      expect(r.code).toBe(1);
      const jira = json(r.stdout).checks.find((c) => c.check.startsWith("jira"))!;
      expect(jira).toMatchObject({ verdict: "fail", detail: "Jira failed (HTTP 503 on reach the server); the server is having trouble; try again later" });
      w.jira.failNext({ status: 503 });
      const plain = await run(["doctor", "--db", w.db, "--no-color"], { env: w.env });
      expect(plain.stdout).toContain("fail  jira");
      expect(plain.stdout).not.toMatch(/\) \(/);
    });

    it("fails a credentials file others can read", async () => {
      await w.storeCredentials();
      chmodSync(join(w.env.HOOKSYNC_CONFIG_DIR!, "credentials.json"), 0o644);
      const r = await run(["doctor", "--db", w.db, "--offline", "--json"], { env: w.env });
      expect(r.code).toBe(1);
      const file = join(w.env.HOOKSYNC_CONFIG_DIR!, "credentials.json");
      expect(json(r.stdout).checks.find((c) => c.check === "credentials")).toMatchObject({ verdict: "fail", detail: expect.stringContaining(`chmod 600 ${file}`) });
    });
  });
});

describe.skipIf(!pgStore)("doctor on a PostgreSQL store (issue 13)", () => {
  const dir = tempDir();
  afterAll(dir.cleanup);
  const env = { HOOKSYNC_CONFIG_DIR: join(dir.path, "config") };
  // The server trusts loopback: the password is carried, never checked.
  const PASSWORD = "hunter2-not-for-logs";
  const withPassword = () => pgStore!.replace("postgres@", `postgres:${PASSWORD}@`);
  const shown = () => pgStore!.replace("postgres@", "postgres:***@");
  const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  beforeAll(async () => {
    const init = await run(["init", "--db", pgStore!]);
    expect(init.code, init.stderr).toBe(0);
  });

  it("reports the store's schema version, the server's version, a round trip, synchronous_commit on, and the pool", async () => {
    const r = await run(["doctor", "--db", pgStore!, "--offline"], { env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(new RegExp(`^ok    store +${literally(pgStore!)}: schema version (\\d+) of \\1$`));
    expect(lines[1]).toMatch(/^ok    store server +PostgreSQL \d+(\.\d+)?\b.*, round trip \d+\.\d ms, synchronous_commit on$/);
    expect(lines[2]).toMatch(/^ok    store pool +up to 10 connections from this process; \d+ open to this database \(server max \d+\)$/);
    expect(lines[3]).toBe(`ok    store path    ${pgStore} (from --db; the default is ${defaultDbPath()})`);
    expect(lines[4]).toMatch(/^ok    credentials +none stored/);
    expect(lines[5]).toMatch(/^ok    outbox +0 pushes waiting, none given up$/);
    expect(lines).toHaveLength(6);
  });

  it("reports synchronous_commit on even where the database's default is off: hooksync asks for it on its connections", async () => {
    const before = await run(["doctor", "--db", pgStore!, "--offline", "--json"], { env });
    expect(json(before.stdout).checks.find((c) => c.check === "store server")!.detail).toMatch(/synchronous_commit on$/);
    const db = new URL(pgStore!).pathname.slice(1);
    const client = new pg.Client({ connectionString: pgUrl! });
    await client.connect();
    try {
      await client.query(`ALTER DATABASE ${db} SET synchronous_commit = off`);
      const r = await run(["doctor", "--db", pgStore!, "--offline", "--json"], { env });
      expect(r.code).toBe(0);
      expect(json(r.stdout).checks.find((c) => c.check === "store server")).toMatchObject({ verdict: "ok", detail: expect.stringMatching(/synchronous_commit on$/) });
    } finally {
      await client.query(`ALTER DATABASE ${db} RESET synchronous_commit`);
      await client.end();
    }
  });

  it.each([
    ["--db", (url: string) => ({ argv: ["--db", url], env: {} })],
    ["HOOKSYNC_DB", (url: string) => ({ argv: [], env: { HOOKSYNC_DB: url } })],
  ])("never shows the password of a PostgreSQL URL given in %s, in any line", async (origin, given) => {
    const { argv, env: dbEnv } = given(withPassword());
    for (const format of [[], ["--json"]]) {
      const r = await run(["doctor", ...argv, "--offline", ...format], { env: { ...env, ...dbEnv } });
      expect(r.code, r.stderr).toBe(0);
      expectNoSecrets(r, [PASSWORD]);
    }
    const checks = json((await run(["doctor", ...argv, "--offline", "--json"], { env: { ...env, ...dbEnv } })).stdout).checks;
    expect(checks.find((c) => c.check === "store")!.detail).toMatch(new RegExp(`^${literally(shown())}: schema version \\d+ of \\d+$`));
    expect(checks.find((c) => c.check === "store path")!.detail).toBe(`${shown()} (from ${origin}; the default is ${defaultDbPath()})`);
  });

  it("fails the store check with one clear line when nothing listens at the PostgreSQL URL, the password hidden there too", async () => {
    const r = await run(["doctor", "--db", "postgres://postgres@127.0.0.1:1/x", "--offline", "--json"], { env });
    expect(r.code).toBe(1);
    expect(json(r.stdout).checks[0]).toEqual({ check: "store", verdict: "fail", detail: "the store postgres://postgres@127.0.0.1:1/x is unreachable: connect ECONNREFUSED 127.0.0.1:1" });
    expect(r.stderr).toBe("hooksync: 1 check failed (each says what to do)\n");

    const plain = await run(["doctor", "--db", `postgres://postgres:${PASSWORD}@127.0.0.1:1/x`, "--offline"], { env });
    expect(plain.code).toBe(1);
    expect(plain.stdout.split("\n")[0]).toBe("fail  store        the store postgres://postgres:***@127.0.0.1:1/x is unreachable: connect ECONNREFUSED 127.0.0.1:1");
    expect(plain.stdout.split("\n")[1]).toBe(`ok    store path   postgres://postgres:***@127.0.0.1:1/x (from --db; the default is ${defaultDbPath()})`);
    expectNoSecrets(plain, [PASSWORD]);
  });
});
