import { describe, expect, it } from "vitest";
import { openStore } from "../../src/store/store.js";
import { backends, failWrites, storeTargets } from "../pg.js";
import { VSTS_ID, loadFixture, world } from "../world.js";

const stores = storeTargets("engine_rules");

const vstsAssign = (email: string | null) => {
  const p = loadFixture("vsts-workitem-updated.json");
  p.resource.fields = { "System.AssignedTo": email === null ? { oldValue: "x <x@y.z>" } : { newValue: `Someone <${email}>` } };
  return p;
};
const vstsState = (to: string, from = "Active") => {
  const p = loadFixture("vsts-workitem-updated.json");
  p.resource.fields = { "System.State": { oldValue: from, newValue: to } };
  return p;
};
const jiraAssign = (email: string) => {
  const p = loadFixture("jira-issue-updated-assignee.json");
  p.issue.fields.assignee.emailAddress = email;
  return p;
};

describe.each(backends)("on %s", (backend) => {
  const freshWorld = async () => world(await stores(backend));

  describe("outcomes (behaviour.md section 1)", () => {
    it("1.1 applies a payload in one transaction: all its changes or none", async () => {
      const w = await freshWorld();
      // Make the second change of the payload fail inside the database.
      const store = await openStore(w.db);
      await failWrites(store.sql, { name: "fail_resolve", table: "activity", event: "INSERT", when: "NEW.kind = 'resolved'", message: "boom" });
      await store.close();
      const p = loadFixture("jira-issue-updated-status-resolved.json");
      p.changelog.items.push({ field: "assignee", from: null, to: "jdoe" });
      const r = await w.replay([p]);
      expect(r.code).toBe(1);
      const issues = await w.issues();
      expect(issues["WEB-1"]).toMatchObject({ assignee: null, status: "unresolved" });
      expect(await w.activity()).toEqual([]);
    });

    it("1.2 writes nothing when nothing changes", async () => {
      const w = await freshWorld();
      const first = await w.replayOne(loadFixture("vsts-workitem-updated.json"));
      expect(first.outcome).toBe("applied");
      const again = await w.replayOne(loadFixture("vsts-workitem-updated.json"));
      expect(again).toMatchObject({ outcome: "ignored", changes: [] });
      expect(await w.activity()).toHaveLength(1);
      expect((await w.replayOne(vstsState("Active", "New"))).outcome).toBe("ignored");
      expect((await w.replayOne(loadFixture("jira-issue-updated-unassigned.json"))).outcome).toBe("ignored");
    });

    it("1.3 writes one activity row per change with from, to, source, delivery and time", async () => {
      const w = await freshWorld();
      await w.replayOne(loadFixture("vsts-workitem-updated.json"));
      await w.replayOne(vstsState("Closed"));
      expect(await w.activity()).toEqual([
        { issue: "BACKEND-1", kind: "assigned", from: "fabrikamfiber4@hotmail.com", to: "fabrikamfiber3@hotmail.com", source: "replay", delivery: null, at: "2026-01-02T03:04:05.000Z" },
        { issue: "BACKEND-1", kind: "resolved", from: "unresolved", to: "resolved", source: "replay", delivery: null, at: "2026-01-02T03:04:05.000Z" },
      ]);
    });
  });

  describe("inbound assignee (behaviour.md section 4)", () => {
    it("4.1 leaves issues of organizations whose inbound assignee sync is off", async () => {
      const w = await freshWorld();
      const o = await w.replayOne(vstsAssign("jane.doe@example.com"));
      expect(o.changes.map((c: any) => c.issue)).toEqual(["BACKEND-1"]);
      expect(o.notes).toContain("inbound assignee sync is off for globex");
      expect((await w.issues())["OPS-1"]!.assignee).toBeNull();
    });

    it("4.1 an organization without a sync setting takes no part", async () => {
      const w = await freshWorld();
      await w.run(["import", "-"], {
        stdin: JSON.stringify({ sync: [{ organization: "acme", integration: VSTS_ID, inboundAssignee: false, inboundStatus: true }] }),
      });
      const o = await w.replayOne(vstsAssign("jane.doe@example.com"));
      expect(o).toMatchObject({ outcome: "ignored", reason: "inbound assignee sync is off for acme, globex" });
    });

    it("4.2 ignores a work item that no issue links to", async () => {
      const w = await freshWorld();
      const p = vstsAssign("jane.doe@example.com");
      p.resource.workItemId = 404;
      expect(await w.replayOne(p)).toMatchObject({ outcome: "ignored", reason: "no linked issue for 404" });
    });

    it("4.3 unassigns every affected issue that has an assignee, and only those", async () => {
      const w = await freshWorld();
      await w.replayOne(jiraAssign("jane.doe@example.com"));
      await w.run(["import", "-"], { stdin: JSON.stringify({ issues: [{ id: "WEB-1", project: "web", title: "Login button misaligned", assignee: null }] }) });
      const o = await w.replayOne(loadFixture("jira-issue-updated-unassigned.json"));
      expect(o.changes).toEqual([{ issue: "BACKEND-2", field: "assignee", from: "jane.doe@example.com", to: null }]);
    });

    it("4.4 assigns a verified member of the issue's project", async () => {
      const w = await freshWorld();
      const o = await w.replayOne(jiraAssign("jane.doe@example.com"));
      expect(o.changes.map((c: any) => c.issue)).toEqual(["BACKEND-2", "WEB-1"]);
    });

    it("4.4 decides each issue on its own: a member of one project only", async () => {
      const w = await freshWorld();
      const o = await w.replayOne(jiraAssign("bob.smith@example.com"));
      expect(o.outcome).toBe("applied");
      expect(o.changes).toEqual([{ issue: "WEB-1", field: "assignee", from: null, to: "bob.smith@example.com" }]);
      expect(o.notes).toEqual(["no verified member bob.smith@example.com in project backend"]);
    });

    it.each([
      ["an unverified user", "mallory@example.com"],
      ["an unknown user", "nobody@example.com"],
      ["a verified user of another organization", "outsider@example.com"],
    ])("4.4 leaves the issue as it is for %s", async (_what, email) => {
      const w = await freshWorld();
      const o = await w.replayOne(jiraAssign(email));
      expect(o).toMatchObject({ outcome: "ignored", changes: [] });
      expect(o.reason).toContain(`no verified member ${email} in project`);
    });
  });

  describe("inbound status (behaviour.md section 5)", () => {
    it("5.1 leaves issues of organizations whose inbound status sync is off", async () => {
      const w = await freshWorld();
      const o = await w.replayOne(vstsState("Closed"));
      expect(o.changes.map((c: any) => c.issue)).toEqual(["BACKEND-1"]);
      expect((await w.issues())["OPS-1"]!.status).toBe("unresolved");
      expect(o.notes).toContain("inbound status sync is off for globex");
    });

    it("5.2 ignores a project without a status mapping", async () => {
      const w = await freshWorld();
      const p = vstsState("Closed");
      p.resourceContainers.project.id = "other-project";
      const o = await w.replayOne(p);
      expect(o.outcome).toBe("ignored");
      expect(o.notes).toContain("no status mapping for project other-project");
    });

    it("5.3 resolves, unresolves, and leaves other states alone", async () => {
      const w = await freshWorld();
      expect((await w.replayOne(vstsState("Closed"))).changes).toMatchObject([{ to: "resolved" }]);
      expect((await w.replayOne(vstsState("New", "Closed"))).changes).toMatchObject([{ to: "unresolved" }]);
      const other = await w.replayOne(vstsState("Removed"));
      expect(other.outcome).toBe("ignored");
      expect(other.notes).toContain("status Removed is not in the mapping for project be9b3917-87e6-42a4-a549-2bc06a7a878f");
    });

    it("5.4 compares state names case-sensitively", async () => {
      const w = await freshWorld();
      expect((await w.replayOne(vstsState("closed"))).outcome).toBe("ignored");
    });

    it("5.4 compares Jira status ids as strings", async () => {
      const w = await freshWorld();
      const p = loadFixture("jira-issue-updated-status-resolved.json");
      for (const i of p.changelog.items) if (i.field === "status") i.to = 10001;
      expect((await w.replayOne(p)).changes).toHaveLength(2);
    });

    it("5.5 a move between two unmapped states changes nothing (Active -> CustomState)", async () => {
      const w = await freshWorld();
      await w.replayOne(vstsState("Closed"));
      expect((await w.replayOne(vstsState("CustomState", "Active"))).outcome).toBe("ignored");
      expect((await w.issues())["BACKEND-1"]!.status).toBe("resolved");
    });
  });
});
