import { describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/store.js";
import { backends, type BackendName, failWrites, storeTargets } from "../pg.js";

const stores = storeTargets("store_delete_project");

/** Two projects with an issue each, and a row in every table that hangs off issues. */
async function seeded(backend: BackendName) {
  const store = await stores.open(backend);
  const sql = store.sql;
  await sql.exec(`
    INSERT INTO organizations (id, slug, name) VALUES (1, 'acme', 'Acme');
    INSERT INTO projects (id, organization_id, slug, name) VALUES (1, 1, 'backend', 'backend'), (2, 1, 'web', 'web');
    INSERT INTO users (id, email, verified) VALUES (1, 'jane@example.com', 1);
    INSERT INTO members (user_id, organization_id) VALUES (1, 1);
    INSERT INTO member_projects (user_id, project_id) VALUES (1, 1), (1, 2);
    INSERT INTO integrations (id, provider, external_id, name, webhook_secret) VALUES (1, 'jira', 'jira-1', 'Jira', 's');
    INSERT INTO issues (id, key, project_id, title) VALUES (10, 'BACKEND-1', 1, 'a'), (20, 'WEB-1', 2, 'b');
  `);
  for (const issue of [10, 20]) {
    await sql.run("INSERT INTO links (issue_id, integration_id, external_key) VALUES (?, 1, ?)", [issue, `K-${issue}`]);
    await sql.run("INSERT INTO activity (id, issue_id, kind, source, at) VALUES (?, ?, 'resolved', 'cli', 'now')", [issue, issue]);
    await sql.run(
      "INSERT INTO outbox (id, kind, issue_id, integration_id, external_key, payload, created_at, updated_at) VALUES (?, 'status', ?, 1, ?, '{}', 'now', 'now')",
      [issue, issue, `K-${issue}`],
    );
    await sql.run("INSERT INTO outbox (id, kind, issue_id, payload, created_at, updated_at) VALUES (?, 'discord', ?, '{}', 'now', 'now')", [issue + 1, issue]);
    await sql.run("INSERT INTO discord_messages (issue_id, webhook_id, message_id, updated_at) VALUES (?, '1', '2', 'now')", [issue]);
  }
  return store;
}

const count = async (store: Store, table: string) => (await store.sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))!.n;

describe("deleteProject (behaviour.md 9.2)", () => {
  it("9.2 knows every table that references issues: a new one must be deleted explicitly too", async () => {
    const store = await openStore(":memory:");
    const tables = (await store.sql.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")).map((t) => t.name);
    const referencing: string[] = [];
    for (const t of tables) {
      if (await store.sql.get("SELECT 1 FROM pragma_foreign_key_list(?) WHERE \"table\" = 'issues'", [t])) referencing.push(t);
    }
    expect(referencing).toEqual(["activity", "discord_messages", "links", "outbox"]);
    await store.close();
  });
});

describe.each(backends)("deleteProject (behaviour.md 9.2) on %s", (backend) => {
  it("9.2 removes the project's issues, links, activity, memberships, outbox rows and Discord message ids, and nothing else", async () => {
    const store = await seeded(backend);
    expect(await store.projects.issueCount("backend")).toBe(1);
    const deleted = await store.inTransaction((tx) => tx.projects.delete("backend"));
    expect(deleted).toEqual({ project: "backend", issues: 1, links: 1, activity: 1, memberships: 1, outbox: 2, discordMessages: 1 });
    for (const table of ["issues", "links", "activity", "member_projects", "discord_messages"]) expect(await count(store, table)).toBe(1);
    expect(await count(store, "outbox")).toBe(2);
    expect((await store.sql.all<{ slug: string }>("SELECT slug FROM projects")).map((p) => p.slug)).toEqual(["web"]);
    // PostgreSQL checks the foreign keys at every statement: a row left pointing at a deleted one would have failed the delete.
    if (backend === "sqlite") expect(await store.sql.all("PRAGMA foreign_key_check")).toEqual([]);
    expect(await store.projects.delete("backend")).toBeUndefined();
    expect(await store.projects.issueCount("backend")).toBeUndefined();
  });

  it("9.2 is all or nothing in the caller's transaction", async () => {
    const store = await seeded(backend);
    await failWrites(store.sql, { name: "keep", table: "projects", event: "DELETE", message: "kept" });
    await expect(store.inTransaction((tx) => tx.projects.delete("backend"))).rejects.toThrow("kept");
    for (const table of ["issues", "links", "activity", "discord_messages"]) expect(await count(store, table)).toBe(2);
    expect(await count(store, "outbox")).toBe(4);
  });
});
