import { chmodSync, mkdirSync, openSync, writeSync, closeSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzureDevOps, type AzureDevOpsFake } from "../fakes/azure-devops.js";
import { defaultDbPath } from "../../src/cli/context.js";
import { run, tempDir } from "../helpers.js";
import { expectNoSecrets, jiraWorld, trackerStore } from "../world.js";

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
