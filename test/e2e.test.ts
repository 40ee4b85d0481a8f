import { join } from "node:path";
import { statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { latestVersion } from "../src/store/migrations.js";
import { ndjson, ROOT, runBin, tempDir } from "./helpers.js";
import { JIRA_ID, VSTS_ID, datasetFile } from "./world.js";

describe("the built CLI, as a user runs it", () => {
  it("init, import, replay --json, issue list and activity", async () => {
    const dir = tempDir();
    try {
      const env = { HOOKSYNC_DB: join(dir.path, "store.db") };
      const init = await runBin(["init"], { env });
      expect(init).toMatchObject({ code: 0, stderr: "" });
      expect(init.stdout).toBe(`store ready: ${env.HOOKSYNC_DB} (schema version ${latestVersion})\n`);
      expect(statSync(env.HOOKSYNC_DB).mode & 0o777).toBe(0o600);

      const imported = await runBin(["import", datasetFile(dir.path)], { env });
      expect(imported.code).toBe(0);
      expect(imported.stdout).toMatch(/^imported: organizations 2 new; projects 3 new; users 6 new;/);

      const replay = await runBin(["replay", join(ROOT, "examples", "payloads"), "--json"], { env });
      expect(replay.code).toBe(0);
      const lines = ndjson(replay.stdout);
      expect(lines.map((l) => l.outcome)).toEqual(["applied", "ignored", "applied", "applied", "applied", "applied", "ignored"]);
      expect(replay.stderr).toMatch(/^7 payloads: 5 applied, 2 ignored, 0 rejected; 8 changes in \d+\.\d+s\n$/);

      const list = await runBin(["issue", "list", "--json"], { env });
      expect(JSON.parse(list.stdout)).toEqual([
        { id: "BACKEND-1", project: "backend", title: "TypeError in checkout", status: "unresolved", assignee: "fabrikamfiber3@hotmail.com", links: [{ integration: VSTS_ID, externalKey: "5" }] },
        { id: "BACKEND-2", project: "backend", title: "Timeout calling payments", status: "resolved", assignee: null, links: [{ integration: JIRA_ID, externalKey: "PRJA-37" }] },
        { id: "OPS-1", project: "ops", title: "Disk full on db-2", status: "unresolved", assignee: null, links: [{ integration: VSTS_ID, externalKey: "5" }] },
        { id: "WEB-1", project: "web", title: "Login button misaligned", status: "resolved", assignee: null, links: [{ integration: JIRA_ID, externalKey: "PRJA-37" }] },
      ]);

      const activity = await runBin(["activity", "--issue", "WEB-1", "--json"], { env });
      expect(JSON.parse(activity.stdout).map((a: { kind: string }) => a.kind)).toEqual(["assigned", "assigned", "resolved", "unassigned"]);
    } finally {
      dir.cleanup();
    }
  });

  it("exits 2 with one line and no stack trace for a usage error", async () => {
    const r = await runBin(["replay"]);
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr).toBe("hooksync: missing required argument 'input' (see 'hooksync --help')\n");
  });

  it("reads payloads from stdin", async () => {
    const dir = tempDir();
    try {
      const env = { HOOKSYNC_DB: join(dir.path, "s.db") };
      await runBin(["init"], { env });
      await runBin(["import", datasetFile(dir.path)], { env });
      const r = await runBin(["replay", "-", "--json", "--dry-run"], { env, stdin: '{"not":"a payload"}\n' });
      expect(r.code).toBe(1);
      expect(ndjson(r.stdout)).toEqual([
        { source: "stdin", provider: null, event: null, integration: null, outcome: "rejected", reason: "cannot tell which tracker sent this payload (use --provider vsts|jira)", changes: [], notes: [] },
      ]);
    } finally {
      dir.cleanup();
    }
  });
});
