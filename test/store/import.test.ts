import { existsSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/store.js";
import { run, tempDir } from "../helpers.js";
import { backends, type BackendName, storeTargets } from "../pg.js";
import { datasetFile } from "../world.js";

const dir = tempDir();
afterAll(dir.cleanup);
const dataset = datasetFile(dir.path);
const stores = storeTargets("store_import");

const INIT_HINT = "'hooksync init' creates one there, given the same --db / HOOKSYNC_DB";
/** What import says of a target with no store, and how a test sees it made none there. */
const noStore: Record<BackendName, { refusal: (db: string) => string; none: (db: string) => Promise<boolean> }> = {
  sqlite: { refusal: (db) => `no store at ${db} (${INIT_HINT}; or fix the path)`, none: async (db) => !existsSync(db) },
  postgres: {
    refusal: (db) => `no hooksync schema in ${db} (${INIT_HINT}; or fix the URL)`,
    none: async (db) => {
      const store = await openStore(db, { readonly: true });
      const version = await store.schemaVersion();
      await store.close();
      return version === 0;
    },
  },
};

async function importJson(db: string, data: unknown) {
  return run(["import", "-", "--db", db, "--json"], { stdin: JSON.stringify(data) });
}

describe.each(backends)("import on %s", (backend) => {
  /** An empty store, as `hooksync init` leaves it. */
  const freshDb = async () => {
    const db = await stores(backend);
    await (await openStore(db)).close();
    return db;
  };

  it("refuses a missing store and makes none: only init creates one", async () => {
    const db = await stores.none(backend);
    const r = await run(["import", dataset, "--db", db]);
    expect(r).toMatchObject({ code: 1, stdout: "" });
    expect(r.stderr).toBe(`hooksync: ${noStore[backend].refusal(db)}\n`);
    expect(await noStore[backend].none(db)).toBe(true);
  });

  it("is idempotent: the same file twice changes nothing", async () => {
    const db = await freshDb();
    const first = JSON.parse((await run(["import", dataset, "--db", db, "--json"])).stdout);
    expect(first.issues).toEqual({ created: 4, updated: 0, unchanged: 0 });
    const second = JSON.parse((await run(["import", dataset, "--db", db, "--json"])).stdout);
    for (const tally of Object.values(second) as { created: number; updated: number }[]) {
      expect(tally.created + tally.updated).toBe(0);
    }
  });

  it("keeps a generated webhook secret across imports", async () => {
    const db = await freshDb();
    const data = { organizations: [{ slug: "o", name: "O" }], integrations: [{ provider: "jira", externalId: "j", name: "J", organizations: ["o"] }] };
    await importJson(db, data);
    const again = JSON.parse((await importJson(db, data)).stdout);
    expect(again.integrations).toEqual({ created: 0, updated: 0, unchanged: 1 });
  });

  it("updates what changed and counts it", async () => {
    const db = await freshDb();
    await run(["import", dataset, "--db", db]);
    const r = await importJson(db, { issues: [{ id: "WEB-1", project: "web", title: "Renamed", status: "resolved" }] });
    expect(JSON.parse(r.stdout).issues).toEqual({ created: 0, updated: 1, unchanged: 0 });
    const list = JSON.parse((await run(["issue", "list", "--json", "--db", db])).stdout);
    expect(list.find((i: { id: string }) => i.id === "WEB-1")).toMatchObject({ title: "Renamed", status: "resolved" });
  });

  it("refuses a bad file whole, listing every problem by its JSON path", async () => {
    const db = await freshDb();
    const r = await importJson(db, {
      organizations: [{ slug: "acme", name: "Acme" }],
      projects: [{ slug: "backend", organization: "nope" }],
      users: [{ email: "not-an-email" }],
      issues: [
        { id: "BACKEND-1", project: "backend", title: "x" },
        { id: "BACKEND-1", project: "backend", title: "y" },
      ],
    });
    expect(r.code).toBe(1);
    const err = JSON.parse(r.stdout).error;
    expect(err.problems).toEqual(["users[0].email: must be an email address"]);
    const r2 = await importJson(db, {
      organizations: [{ slug: "acme", name: "Acme" }],
      projects: [{ slug: "backend", organization: "nope" }],
      issues: [
        { id: "BACKEND-1", project: "backend", title: "x" },
        { id: "BACKEND-1", project: "backend", title: "y" },
      ],
      links: [{ issue: "BACKEND-9", integration: "x", externalKey: "1" }],
    });
    expect(JSON.parse(r2.stdout).error.problems).toEqual(['issues[1]: duplicate issue id "BACKEND-1" (first at issues[0])']);
    const r3 = await importJson(db, {
      organizations: [{ slug: "acme", name: "Acme" }],
      projects: [{ slug: "backend", organization: "nope" }],
      issues: [{ id: "BACKEND-1", project: "backend", title: "x" }],
      links: [{ issue: "BACKEND-9", integration: "x", externalKey: "1" }],
    });
    expect(r3.code).toBe(1);
    expect(JSON.parse(r3.stdout).error.problems).toEqual([
      'projects[0].organization: no organization "nope"',
      'issues[0].project: no project "backend"',
      'links[0].issue: no issue "BACKEND-9"',
      'links[0].integration: no integration "x"',
    ]);
    expect(r3.stderr).toMatch(/^hooksync: stdin was refused, nothing imported: projects\[0\]\.organization: no organization "nope"; /);
    // Nothing of it landed, not even the valid organization.
    const list = await run(["issue", "list", "--json", "--db", db]);
    expect(JSON.parse(list.stdout)).toEqual([]);
    const again = await importJson(db, { organizations: [{ slug: "acme", name: "Acme" }] });
    expect(JSON.parse(again.stdout).organizations).toEqual({ created: 1, updated: 0, unchanged: 0 });
  });

  it.each([
    [{ organisations: [] }, "organisations: unknown key (the file's shape: 'hooksync import --schema', or docs/import.md)"],
    [{ organizations: [{ slug: "a", name: 5 }] }, "organizations[0].name: expected string, got 5"],
    [{ integrations: [{ provider: "github", externalId: "x", name: "x" }] }, 'integrations[0].provider: expected ("vsts" | "jira"), got "github"'],
    [{ issues: [{ id: "nope", project: "p", title: "t" }] }, "issues[0].id: must look like BACKEND-1"],
    [{ organizations: {} }, "organizations: expected Array, got Object"],
    [[], "(top level): expected Object, got Array"],
  ])("names the problem of %j", async (data, problem) => {
    const r = await importJson(await freshDb(), data);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.problems).toEqual([problem]);
  });

  it("refuses a sync setting for an organization the integration does not belong to", async () => {
    const r = await importJson(await freshDb(), {
      organizations: [{ slug: "a", name: "A" }, { slug: "b", name: "B" }],
      integrations: [{ provider: "jira", externalId: "j", name: "J", organizations: ["a"] }],
      sync: [{ organization: "b", integration: "j", inboundAssignee: true }],
    });
    expect(JSON.parse(r.stdout).error.problems).toEqual(["sync[0]: integration j does not belong to organization b"]);
  });

  it("writes link keys the way webhooks write them, and refuses keys of the wrong shape", async () => {
    const base = {
      organizations: [{ slug: "o", name: "O" }],
      projects: [{ slug: "p", organization: "o" }],
      integrations: [
        { provider: "vsts", externalId: "v", name: "V", organizations: ["o"] },
        { provider: "jira", externalId: "j", name: "J", organizations: ["o"] },
      ],
      issues: [{ id: "P-1", project: "p", title: "t" }],
    };
    const db = await freshDb();
    const ok = await importJson(db, { ...base, links: [{ issue: "P-1", integration: "v", externalKey: "0005" }, { issue: "P-1", integration: "j", externalKey: "prja-37" }] });
    expect(ok.code).toBe(0);
    const list = JSON.parse((await run(["issue", "list", "--json", "--db", db])).stdout);
    expect(list[0].links).toEqual([
      { integration: "j", externalKey: "PRJA-37" },
      { integration: "v", externalKey: "5" },
    ]);
    const bad = await importJson(await freshDb(), { ...base, links: [{ issue: "P-1", integration: "v", externalKey: "PRJA-1" }, { issue: "P-1", integration: "j", externalKey: "42" }] });
    expect(JSON.parse(bad.stdout).error.problems).toEqual([
      'links[0].externalKey: "PRJA-1" is not a work item id, like 123',
      'links[1].externalKey: "42" is not a Jira issue key, like PROJ-123',
    ]);
  });

  it("refuses an empty or broken file with a one-line error", async () => {
    const empty = await run(["import", "-", "--db", await freshDb()], { stdin: "" });
    expect(empty).toMatchObject({ code: 1, stderr: "hooksync: - is empty (it must hold one JSON object)\n" });
    const broken = await run(["import", "-", "--db", await freshDb()], { stdin: "{" });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^hooksync: - is not valid JSON: .* \(fix the file and try again\)\n$/);
  });
});
