import { describe, expect, it } from "vitest";
import { backends, storeTargets } from "../pg.js";
import { JIRA_ID, loadFixture, world } from "../world.js";

const stores = storeTargets("engine_jira_inbound");

const assigned = () => loadFixture("jira-issue-updated-assignee.json");

describe.each(backends)("Jira inbound (behaviour.md section 3) on %s", (backend) => {
  const freshWorld = async () => world(await stores(backend));

  it("3.2 uses the only jira integration when none is named", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(assigned());
    expect(o).toMatchObject({ provider: "jira", event: "jira:issue_updated", integration: JIRA_ID, outcome: "applied" });
  });

  it("3.2 takes --integration and the envelope's integration", async () => {
    const w = await freshWorld();
    expect((await w.replayOne(assigned(), ["--integration", JIRA_ID])).outcome).toBe("applied");
    const w2 = await freshWorld();
    const o = await w2.replayOne({ provider: "jira", integration: JIRA_ID, headers: {}, body: assigned() });
    expect(o).toMatchObject({ outcome: "applied", integration: JIRA_ID });
  });

  it("3.2 rejects when several jira integrations exist and none is named", async () => {
    const w = await freshWorld();
    const extra = { integrations: [{ provider: "jira", externalId: "jira-2", name: "Second", organizations: ["acme"] }] };
    await w.run(["import", "-"], { stdin: JSON.stringify(extra) });
    const o = await w.replayOne(assigned());
    expect(o).toMatchObject({ outcome: "rejected", reason: "which jira integration? use --integration" });
  });

  it("3.2 rejects an --integration of the other provider", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(assigned(), ["--integration", "c12d0eb8-e382-443b-9f9c-c52cba5014c2"]);
    expect(o).toMatchObject({ outcome: "rejected", reason: "no jira integration c12d0eb8-e382-443b-9f9c-c52cba5014c2" });
  });

  it("3.3 ignores a payload without changelog (issue created)", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(loadFixture("jira-issue-created.json"));
    expect(o).toMatchObject({ outcome: "ignored", reason: "no changelog" });
  });

  it("3.4 rejects a payload without issue.key", async () => {
    const w = await freshWorld();
    const p = assigned();
    delete p.issue.key;
    expect(await w.replayOne(p)).toMatchObject({ outcome: "rejected", reason: "payload has no issue.key" });
  });

  it("3.5 reads the assignee from issue.fields, not the changelog's to", async () => {
    const w = await freshWorld();
    const p = assigned();
    p.changelog.items[0].to = "someone-else";
    const o = await w.replayOne(p);
    expect(o.changes).toEqual([{ issue: "WEB-1", field: "assignee", from: null, to: "bob.smith@example.com" }]);
  });

  it("3.5 unassigns when issue.fields.assignee is null", async () => {
    const w = await freshWorld();
    await w.replayOne(loadFixture("jira-issue-updated-assignee-from-unassigned.json"));
    const o = await w.replayOne(loadFixture("jira-issue-updated-unassigned.json"));
    expect(o.changes).toEqual([
      { issue: "BACKEND-2", field: "assignee", from: "jane.doe@example.com", to: null },
      { issue: "WEB-1", field: "assignee", from: "jane.doe@example.com", to: null },
    ]);
  });

  it("3.5 ignores a payload whose fields carry no assignee key (no data loss on trimmed payloads)", async () => {
    const w = await freshWorld();
    await w.replayOne(loadFixture("jira-issue-updated-assignee-from-unassigned.json"));
    const p = loadFixture("reference/jira-issue-updated-assignee-field-missing.json");
    p.issue.key = "PRJA-37";
    const o = await w.replayOne(p);
    expect(o).toMatchObject({ outcome: "ignored", reason: "payload carries no assignee field" });
    expect((await w.issues())["WEB-1"]!.assignee).toBe("jane.doe@example.com");
  });

  it("3.5 ignores an assignee whose email Jira hides", async () => {
    const w = await freshWorld();
    const p = assigned();
    p.issue.fields.assignee.emailAddress = "";
    expect(await w.replayOne(p)).toMatchObject({ outcome: "ignored", reason: "assignee has no email address" });
    delete p.issue.fields.assignee.emailAddress;
    expect(await w.replayOne(p)).toMatchObject({ outcome: "ignored", reason: "assignee has no email address" });
  });

  it("3.6 resolves by status id through the mapping", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(loadFixture("jira-issue-updated-status-resolved.json"));
    expect(o.changes).toEqual([
      { issue: "BACKEND-2", field: "status", from: "unresolved", to: "resolved" },
      { issue: "WEB-1", field: "status", from: "unresolved", to: "resolved" },
    ]);
  });

  it("3.6 matches the status item case-insensitively (Status)", async () => {
    const w = await freshWorld();
    const p = loadFixture("jira-issue-updated-status-resolved.json");
    for (const item of p.changelog.items) if (item.field === "status") item.field = "Status";
    expect((await w.replayOne(p)).changes).toHaveLength(2);
  });

  it("3.6 skips status when the project id is missing", async () => {
    const w = await freshWorld();
    const p = loadFixture("jira-issue-updated-status-resolved.json");
    delete p.issue.fields.project;
    expect(await w.replayOne(p)).toMatchObject({ outcome: "ignored", reason: "payload has no issue.fields.project.id: status not synced" });
  });

  it("3.7 applies an assignee and a status change of one payload together", async () => {
    const w = await freshWorld();
    const p = loadFixture("jira-issue-updated-status-resolved.json");
    p.changelog.items.push({ field: "assignee", fieldtype: "jira", from: null, to: "jdoe" });
    const o = await w.replayOne(p);
    expect(o.changes.map((c: any) => `${c.issue}:${c.field}`)).toEqual([
      "BACKEND-2:assignee",
      "WEB-1:assignee",
      "BACKEND-2:status",
      "WEB-1:status",
    ]);
  });

  it("ignores a payload that only moves the issue (Sentry B14)", async () => {
    const w = await freshWorld();
    const p = loadFixture("reference/jira-issue-updated-moved.json");
    expect((await w.replayOne(p)).outcome).toBe("ignored");
  });

  it("ignores other webhook events", async () => {
    const w = await freshWorld();
    const p = assigned();
    p.webhookEvent = "comment_created";
    expect(await w.replayOne(p)).toMatchObject({ outcome: "ignored", reason: "event type comment_created is not synced" });
  });
});
