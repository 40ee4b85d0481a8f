import { describe, expect, it } from "vitest";
import { applyEvents } from "../../src/engine/engine.js";
import { type ApplyContext, type Revision, type SyncEvent, shownChange } from "../../src/engine/types.js";
import { JIRA_ID, JIRA_PROJECT, USERS, VSTS_ID, VSTS_PROJECT_ID, fullDataset } from "../world.js";
import { MemoryPort } from "./memory-port.js";

/*
 * behaviour.md sections 1, 4, 5 and 10 (10.1-10.2), rule by rule, against the pure engine over an
 * in-memory port built from the world's full dataset: work item 5 links BACKEND-1 (acme, assigned
 * to Jamal) and OPS-1 (globex, whose VSTS sync is off); PRJA-37 links WEB-1 and BACKEND-2 (acme).
 * The end-to-end tests of the same rules (rules.test.ts, *-inbound.test.ts, order.test.ts) stay.
 */

const { jane, bob, chuck, jamal, mallory } = USERS;
const AT = "2026-01-02T03:04:05.000Z";

function setup(edit: (d: ReturnType<typeof fullDataset>) => void = () => {}) {
  const d = fullDataset();
  edit(d);
  const port = new MemoryPort(d);
  const apply = (integration: string, events: SyncEvent[], ctx: Partial<ApplyContext> = {}) =>
    applyEvents(port, { integrationId: port.integrationId(integration), source: "replay", deliveryId: 42, at: AT, ...ctx }, events);
  return { port, vsts: (...e: SyncEvent[]) => apply(VSTS_ID, e), jira: (...e: SyncEvent[]) => apply(JIRA_ID, e), apply };
}

const rev = (value: number): Revision => ({ kind: "rev", value });
const assign = (externalKey: string, email: string | null, revision: Revision | null = null): SyncEvent => ({ kind: "assignee", externalKey, email, revision });
const status = (externalKey: string, to: string, revision: Revision | null = null, externalProject = VSTS_PROJECT_ID): SyncEvent => ({
  kind: "status",
  externalKey,
  externalProject,
  from: null,
  to,
  revision,
});

describe("outcomes (behaviour.md section 1), in memory", () => {
  it("1.1 a payload's events come back as one result: all its changes, or no change and the reasons", async () => {
    const { vsts } = setup();
    const applied = await vsts(assign("5", chuck.email), status("5", "Closed"));
    expect(applied.changes.map(shownChange)).toEqual([
      { issue: "BACKEND-1", field: "assignee", from: jamal.email, to: chuck.email },
      { issue: "BACKEND-1", field: "status", from: "unresolved", to: "resolved" },
    ]);
    const ignored = await vsts(assign("404", chuck.email));
    expect(ignored).toEqual({ changes: [], notes: ["no linked issue for 404"] });
  });

  it("1.1 a failing write throws out of the engine, so the caller's one transaction undoes all of the payload", async () => {
    const { port, vsts } = setup();
    port.write = async () => {
      throw new Error("disk full");
    };
    await expect(vsts(assign("5", chuck.email), status("5", "Closed"))).rejects.toThrow("disk full");
  });

  it("1.2 writes nothing when nothing changes: the current assignee, a resolved issue resolved, an unassigned one unassigned", async () => {
    const { port, vsts, jira } = setup((d) => {
      d.issues.find((i) => i.id === "BACKEND-1")!.status = "resolved";
    });
    const r = [await vsts(assign("5", jamal.email)), await vsts(status("5", "Closed")), await jira(assign("PRJA-37", null))];
    expect(r.map((x) => x.changes)).toEqual([[], [], []]);
    expect(port.writes).toEqual([]);
    expect(port.activity).toEqual([]);
  });

  it("1.3 writes one activity row a change: kind, from, to, source, delivery id and time", async () => {
    const { port, apply } = setup();
    await apply(VSTS_ID, [assign("5", null), status("5", "Closed")], { source: "serve", deliveryId: 7, at: "2026-03-04T05:06:07.000Z" });
    const row = { source: "serve", deliveryId: 7, at: "2026-03-04T05:06:07.000Z" };
    expect(port.activity).toEqual([
      { issueId: expect.any(Number), kind: "unassigned", from: jamal.email, to: null, ...row },
      { issueId: expect.any(Number), kind: "resolved", from: "unresolved", to: "resolved", ...row },
    ]);
  });
});

describe("inbound assignee (behaviour.md section 4), in memory", () => {
  it("4.1 leaves the issues of an organization whose inbound assignee sync is off as they are, and says so", async () => {
    const { port, vsts } = setup();
    const r = await vsts(assign("5", jane.email));
    expect(r.changes.map((c) => c.issue)).toEqual(["BACKEND-1"]);
    expect(r.notes).toEqual(["inbound assignee sync is off for globex"]);
    expect(port.state("OPS-1").assignee).toBeNull();
  });

  it("4.2 affects only the issues linked to the external issue; none linked is 'no linked issue'", async () => {
    const { port, jira } = setup();
    expect(await jira(assign("PRJA-99", jane.email))).toEqual({ changes: [], notes: ["no linked issue for PRJA-99"] });
    expect((await jira(assign("PRJA-37", jane.email))).changes.map((c) => c.issue)).toEqual(["BACKEND-2", "WEB-1"]);
    expect(port.state("BACKEND-1").assignee).toBe(jamal.email);
  });

  it("4.2 affects no issue when every linked one is in an organization that does not take part", async () => {
    const { port, vsts } = setup((d) => {
      d.sync[0]!.inboundAssignee = false;
    });
    expect(await vsts(assign("5", jane.email))).toEqual({ changes: [], notes: ["inbound assignee sync is off for acme, globex"] });
    expect(port.writes.filter((w) => !w.startsWith("revision"))).toEqual([]);
  });

  it("4.3 unassigns every affected issue that has an assignee, and only those", async () => {
    const { port, jira } = setup((d) => {
      d.issues.find((i) => i.id === "WEB-1")!.assignee = bob.email;
    });
    const r = await jira(assign("PRJA-37", null));
    expect(r.changes.map(shownChange)).toEqual([{ issue: "WEB-1", field: "assignee", from: bob.email, to: null }]);
    expect(port.activity.map((a) => a.kind)).toEqual(["unassigned"]);
    expect(port.state("WEB-1").assignee).toBeNull();
  });

  it("4.4 assigns a verified member of the issue's project", async () => {
    const { port, vsts } = setup();
    expect((await vsts(assign("5", chuck.email))).changes.map(shownChange)).toEqual([{ issue: "BACKEND-1", field: "assignee", from: jamal.email, to: chuck.email }]);
    expect(port.state("BACKEND-1").assignee).toBe(chuck.email);
  });

  it("4.4 leaves the issue as it is for an unverified user, an unknown one, and a verified one outside the project", async () => {
    const { port, vsts } = setup();
    for (const email of [mallory.email, "nobody@example.com", bob.email]) {
      expect((await vsts(assign("5", email))).notes, email).toContain(`no verified member ${email} in project backend`);
    }
    expect(port.state("BACKEND-1").assignee).toBe(jamal.email);
    expect(port.writes).toEqual([]);
  });

  it("4.4 decides each linked issue on its own: one payload assigns one and skips the other", async () => {
    const { port, jira } = setup();
    // Bob is a member of web, not of backend.
    const r = await jira(assign("PRJA-37", bob.email));
    expect(r.changes.map(shownChange)).toEqual([{ issue: "WEB-1", field: "assignee", from: null, to: bob.email }]);
    expect(r.notes).toEqual([`no verified member ${bob.email} in project backend`]);
    expect(port.state("BACKEND-2").assignee).toBeNull();
  });
});

describe("inbound status (behaviour.md section 5), in memory", () => {
  it("5.1 leaves the issues of an organization whose inbound status sync is off as they are", async () => {
    const { port, vsts } = setup();
    const r = await vsts(status("5", "Closed"));
    expect(r.changes.map((c) => c.issue)).toEqual(["BACKEND-1"]);
    expect(r.notes).toEqual(["inbound status sync is off for globex"]);
    expect(port.state("OPS-1").status).toBe("unresolved");
  });

  it("5.1 judges the status sync apart from the assignee sync of the same organization", async () => {
    const { port, vsts } = setup((d) => {
      d.sync[0]!.inboundStatus = false;
    });
    const r = await vsts(assign("5", chuck.email), status("5", "Closed"));
    expect(r.changes.map((c) => c.field)).toEqual(["assignee"]);
    expect(port.state("BACKEND-1")).toEqual({ status: "unresolved", assignee: chuck.email });
  });

  it("5.2 changes nothing without a status mapping for the external project, and names it", async () => {
    const { port, vsts } = setup();
    expect((await vsts(status("5", "Closed", null, "no-such-project"))).notes).toEqual(["inbound status sync is off for globex", "no status mapping for project no-such-project"]);
    expect(port.writes).toEqual([]);
  });

  it("5.3 resolves on a status of resolvedStatus and reopens on one of unresolvedStatus", async () => {
    const { port, vsts, jira } = setup();
    expect((await vsts(status("5", "Resolved"))).changes.map(shownChange)).toEqual([{ issue: "BACKEND-1", field: "status", from: "unresolved", to: "resolved" }]);
    expect((await vsts(status("5", "Active"))).changes.map(shownChange)).toEqual([{ issue: "BACKEND-1", field: "status", from: "resolved", to: "unresolved" }]);
    // A mapping given as one string (Jira's "10001") works as a list of one.
    expect((await jira(status("PRJA-37", "10001", null, JIRA_PROJECT))).changes.map((c) => [c.issue, c.to])).toEqual([
      ["BACKEND-2", "resolved"],
      ["WEB-1", "resolved"],
    ]);
    expect(port.activity.map((a) => a.kind)).toEqual(["resolved", "unresolved", "resolved", "resolved"]);
  });

  it("5.3 changes nothing for a status in neither list", async () => {
    const { port, vsts } = setup();
    expect((await vsts(status("5", "Removed"))).notes).toEqual(["inbound status sync is off for globex", `status Removed is not in the mapping for project ${VSTS_PROJECT_ID}`]);
    expect(port.writes).toEqual([]);
  });

  it("5.4 compares state names case-sensitively and status ids as strings", async () => {
    const { port, vsts, jira } = setup();
    expect((await vsts(status("5", "closed"))).changes).toEqual([]);
    expect((await jira(status("PRJA-37", "10001.0", null, JIRA_PROJECT))).changes).toEqual([]);
    expect(port.writes).toEqual([]);
  });

  it("5.5 decides from the explicit mapping only: Active -> an unmapped CustomState reopens nothing", async () => {
    const { port, vsts } = setup((d) => {
      d.issues.find((i) => i.id === "BACKEND-1")!.status = "resolved";
    });
    expect((await vsts({ ...status("5", "CustomState"), from: "Active" } as SyncEvent)).changes).toEqual([]);
    expect(port.state("BACKEND-1").status).toBe("resolved");
  });
});

describe("order and revisions (behaviour.md 10.1-10.2), in memory", () => {
  it("10.1 keeps the revision of each linked external issue and each field apart", async () => {
    const { port, vsts } = setup();
    const id = port.integrationId(VSTS_ID);
    await vsts(assign("5", chuck.email, rev(9)));
    expect([port.kept(id, "5", "assignee"), port.kept(id, "5", "status")]).toEqual([9, null]);
    await vsts(status("5", "Closed", rev(11)));
    expect([port.kept(id, "5", "assignee"), port.kept(id, "5", "status")]).toEqual([9, 11]);
  });

  it("10.1 keeps the revision even when the change is a no-op or its sync is off, and keeps none for an unlinked issue", async () => {
    const { port, vsts } = setup((d) => {
      d.sync[0]!.inboundStatus = false;
    });
    const id = port.integrationId(VSTS_ID);
    await vsts(assign("5", jamal.email, rev(9)), status("5", "Closed", rev(9)));
    await vsts(assign("404", jane.email, rev(9)));
    expect([port.kept(id, "5", "assignee"), port.kept(id, "5", "status"), port.kept(id, "404", "assignee")]).toEqual([9, 9, null]);
  });

  it("10.2 ignores an older revision of a field: 'stale: rev 7 after rev 9', nothing written", async () => {
    const { port, vsts } = setup();
    await vsts(assign("5", chuck.email, rev(9)));
    const writes = port.writes.length;
    expect(await vsts(assign("5", jane.email, rev(7)))).toEqual({ changes: [], notes: ["stale: rev 7 after rev 9"] });
    expect(port.writes.length).toBe(writes);
    expect(port.state("BACKEND-1").assignee).toBe(chuck.email);
  });

  it("10.2 names Jira's two times for a stale Jira payload", async () => {
    const { jira } = setup();
    const noon = Date.parse("2026-01-01T12:00:00.000Z");
    await jira(assign("PRJA-37", jane.email, { kind: "time", value: noon }));
    expect((await jira(assign("PRJA-37", bob.email, { kind: "time", value: noon - 60_000 }))).notes).toEqual([
      "stale: 2026-01-01T11:59:00.000Z after 2026-01-01T12:00:00.000Z",
    ]);
  });

  it("10.2 applies an equal revision as a redelivery and a payload with no revision as before", async () => {
    const { port, vsts } = setup();
    await vsts(assign("5", chuck.email, rev(9)));
    expect((await vsts(assign("5", jane.email, rev(9)))).changes.map(shownChange)).toEqual([{ issue: "BACKEND-1", field: "assignee", from: chuck.email, to: jane.email }]);
    expect((await vsts(assign("5", jamal.email))).changes.map(shownChange)).toEqual([{ issue: "BACKEND-1", field: "assignee", from: jane.email, to: jamal.email }]);
    expect(port.kept(port.integrationId(VSTS_ID), "5", "assignee")).toBe(9);
  });

  it("10.2 judges fields separately: an old assignee change does not block a newer status one", async () => {
    const { port, vsts } = setup();
    await vsts(assign("5", chuck.email, rev(9)));
    const r = await vsts(assign("5", jane.email, rev(8)), status("5", "Closed", rev(8)));
    expect(r.changes.map(shownChange)).toEqual([{ issue: "BACKEND-1", field: "status", from: "unresolved", to: "resolved" }]);
    expect(r.notes).toContain("stale: rev 8 after rev 9");
    expect(port.state("BACKEND-1")).toEqual({ status: "resolved", assignee: chuck.email });
  });

  it("10.2 says a pair of stale revisions once for a payload refused on both fields", async () => {
    const { vsts } = setup();
    await vsts(assign("5", chuck.email, rev(9)), status("5", "Closed", rev(9)));
    expect((await vsts(assign("5", jane.email, rev(7)), status("5", "Active", rev(7)))).notes).toEqual(["stale: rev 7 after rev 9"]);
  });

  it("10.2 with --ignore-order applies an older revision and keeps the newer one", async () => {
    const { port, apply } = setup();
    await apply(VSTS_ID, [assign("5", chuck.email, rev(9))]);
    const r = await apply(VSTS_ID, [assign("5", jane.email, rev(7))], { ignoreOrder: true });
    expect(r.changes.map(shownChange)).toEqual([{ issue: "BACKEND-1", field: "assignee", from: chuck.email, to: jane.email }]);
    expect(port.kept(port.integrationId(VSTS_ID), "5", "assignee")).toBe(9);
  });
});
