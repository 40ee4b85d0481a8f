import { describe, expect, it } from "vitest";
import { vsts } from "../../../src/providers/vsts/parse.js";
import { simulateVsts, VSTS_EXAMPLE } from "../../../src/providers/vsts/simulate.js";

const r = { now: new Date("2026-01-02T03:04:05.000Z"), random: (n: number) => Buffer.alloc(n, 7) };
const base = { eventType: "workitem.updated", collectionId: "coll-1", orgUrl: "https://dev.azure.com/acme/", workItem: "42" };

describe("simulateVsts", () => {
  it("builds a workitem.updated the VSTS parser reads as the flags say", () => {
    const payload = simulateVsts({ ...base, assignee: "Jane Doe <jane@example.com>", status: "Closed", project: "proj-1" }, r);
    const parsed = vsts.parse(payload);
    expect(parsed).toMatchObject({
      ok: true,
      event: "workitem.updated",
      integration: "coll-1",
      events: [
        { kind: "assignee", externalKey: "42", email: "jane@example.com" },
        { kind: "status", externalKey: "42", externalProject: "proj-1", from: null, to: "Closed" },
      ],
    });
    expect(payload.resource).toMatchObject({ workItemId: 42, url: "https://dev.azure.com/acme/proj-1/_apis/wit/workItems/42/updates/3" });
    expect(vsts.deliveryIdentity(payload, {})).toBe(`8e04ca2a-f1d6-4e29-afdc-d43b5e0d0ef9:${payload.notificationId}`);
  });

  it("clears the assignee with unassign (rule 2.6: no newValue)", () => {
    expect(vsts.parse(simulateVsts({ ...base, unassign: true }, r))).toMatchObject({ events: [{ kind: "assignee", email: null }] });
  });

  it("changes nothing the engine syncs without flags", () => {
    expect(vsts.parse(simulateVsts(base, r))).toMatchObject({ ok: true, events: [], notes: ["no assignee or state change"] });
  });

  it("sets the full field set of created and commented work items", () => {
    const created = simulateVsts({ ...base, eventType: "workitem.created", assignee: "Bob <bob@example.com>", status: "Active" }, r);
    expect((created.resource as any).fields).toMatchObject({ "System.AssignedTo": "Bob <bob@example.com>", "System.State": "Active" });
    const commented = simulateVsts({ ...base, eventType: "workitem.commented", unassign: true }, r);
    expect((commented.resource as any).fields["System.AssignedTo"]).toBeUndefined();
  });

  it("uses the example organization's project when none is given", () => {
    const push = simulateVsts({ eventType: "git.push", collectionId: VSTS_EXAMPLE.collectionId, orgUrl: VSTS_EXAMPLE.orgUrl }, r);
    expect((push.resourceContainers as any).project.id).toBe(VSTS_EXAMPLE.project);
    expect(vsts.parse(push)).toMatchObject({ ok: true, notes: ["event type git.push is not synced"] });
  });
});
