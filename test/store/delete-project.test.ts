import { describe, expect, it } from "vitest";
import { openStore } from "../../src/store/store.js";

/** Two projects with an issue each, and a row in every table that hangs off issues. */
function seeded() {
  const store = openStore(":memory:");
  const db = store.db;
  db.exec(`
    INSERT INTO organizations (id, slug, name) VALUES (1, 'acme', 'Acme');
    INSERT INTO projects (id, organization_id, slug, name) VALUES (1, 1, 'backend', 'backend'), (2, 1, 'web', 'web');
    INSERT INTO users (id, email, verified) VALUES (1, 'jane@example.com', 1);
    INSERT INTO members (user_id, organization_id) VALUES (1, 1);
    INSERT INTO member_projects (user_id, project_id) VALUES (1, 1), (1, 2);
    INSERT INTO integrations (id, provider, external_id, name, webhook_secret) VALUES (1, 'jira', 'jira-1', 'Jira', 's');
    INSERT INTO issues (id, key, project_id, title) VALUES (10, 'BACKEND-1', 1, 'a'), (20, 'WEB-1', 2, 'b');
  `);
  for (const issue of [10, 20]) {
    db.prepare("INSERT INTO links (issue_id, integration_id, external_key) VALUES (?, 1, ?)").run(issue, `K-${issue}`);
    db.prepare("INSERT INTO activity (id, issue_id, kind, source, at) VALUES (?, ?, 'resolved', 'cli', 'now')").run(issue, issue);
    db.prepare(
      "INSERT INTO outbox (id, kind, issue_id, integration_id, external_key, payload, created_at, updated_at) VALUES (?, 'status', ?, 1, ?, '{}', 'now', 'now')",
    ).run(issue, issue, `K-${issue}`);
    db.prepare("INSERT INTO outbox (id, kind, issue_id, payload, created_at, updated_at) VALUES (?, 'discord', ?, '{}', 'now', 'now')").run(issue + 1, issue);
    db.prepare("INSERT INTO discord_messages (issue_id, webhook_id, message_id, updated_at) VALUES (?, '1', '2', 'now')").run(issue);
  }
  return store;
}

const count = (store: ReturnType<typeof seeded>, table: string) => (store.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

describe("deleteProject (behaviour.md 9.2)", () => {
  it("9.2 knows every table that references issues: a new one must be deleted explicitly too", () => {
    const store = openStore(":memory:");
    const tables = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
    const referencing = tables.filter((t) => store.db.prepare("SELECT 1 FROM pragma_foreign_key_list(?) WHERE \"table\" = 'issues'").get(t));
    expect(referencing).toEqual(["activity", "discord_messages", "links", "outbox"]);
    store.close();
  });

  it("9.2 removes the project's issues, links, activity, memberships, outbox rows and Discord message ids, and nothing else", () => {
    const store = seeded();
    expect(store.projects.issueCount("backend")).toBe(1);
    const deleted = store.inTransaction(() => store.projects.delete("backend"));
    expect(deleted).toEqual({ project: "backend", issues: 1, links: 1, activity: 1, memberships: 1, outbox: 2, discordMessages: 1 });
    for (const table of ["issues", "links", "activity", "member_projects", "discord_messages"]) expect(count(store, table)).toBe(1);
    expect(count(store, "outbox")).toBe(2);
    expect(store.db.prepare("SELECT slug FROM projects").pluck().all()).toEqual(["web"]);
    expect(store.db.pragma("foreign_key_check")).toEqual([]);
    expect(store.projects.delete("backend")).toBeUndefined();
    expect(store.projects.issueCount("backend")).toBeUndefined();
    store.close();
  });

  it("9.2 is all or nothing in the caller's transaction", () => {
    const store = seeded();
    store.db.exec("CREATE TRIGGER keep BEFORE DELETE ON projects BEGIN SELECT RAISE(ABORT, 'kept'); END");
    expect(() => store.inTransaction(() => store.projects.delete("backend"))).toThrow("kept");
    for (const table of ["issues", "links", "activity", "discord_messages"]) expect(count(store, table)).toBe(2);
    expect(count(store, "outbox")).toBe(4);
    store.close();
  });
});
