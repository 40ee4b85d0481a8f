import { describe, expect, it } from "vitest";
import { backends, storeTargets } from "../pg.js";
import { VSTS_ID, loadFixture, world } from "../world.js";

const stores = storeTargets("engine_vsts_inbound");

/** The fixture with its fields replaced: only what a test names changes. */
function updated(fields: Record<string, unknown>, mutate: (p: any) => void = () => {}): any {
  const p = loadFixture("vsts-workitem-updated.json");
  p.resource.fields = { "System.Rev": { oldValue: 2, newValue: 3 }, ...fields };
  mutate(p);
  return p;
}
const assign = (newValue: unknown, oldValue?: unknown) => ({
  "System.AssignedTo": newValue === undefined ? { oldValue } : { oldValue, newValue },
});
const state = (oldValue: string | undefined, newValue: string) => ({ "System.State": { oldValue, newValue } });

describe.each(backends)("VSTS inbound (behaviour.md section 2) on %s", (backend) => {
  const freshWorld = async () => world(await stores(backend));

  it("2.1 takes the integration from resourceContainers.collection.id", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(loadFixture("vsts-workitem-updated.json"));
    expect(o).toMatchObject({ outcome: "applied", provider: "vsts", event: "workitem.updated", integration: VSTS_ID });
  });

  it("2.1 rejects a payload without resourceContainers.collection.id", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(updated(assign("a <jane.doe@example.com>"), (p) => delete p.resourceContainers.collection));
    expect(o).toMatchObject({ outcome: "rejected", reason: "payload has no resourceContainers.collection.id", code: 1 });
  });

  it("2.1 rejects an unknown collection id", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(updated(assign("a <jane.doe@example.com>"), (p) => (p.resourceContainers.collection.id = "nope")));
    expect(o).toMatchObject({ outcome: "rejected", reason: "no vsts integration nope" });
  });

  it.each(["vsts-workitem-created.json", "vsts-workitem-commented.json", "vsts-git-push.json", "vsts-git-pullrequest-created.json"])(
    "2.3 ignores other event types (%s)",
    async (name) => {
      const w = await freshWorld();
      const payload = loadFixture(name);
      const o = await w.replayOne(payload);
      expect(o).toMatchObject({ outcome: "ignored", reason: `event type ${payload.eventType} is not synced`, changes: [] });
      expect(await w.activity()).toEqual([]);
    },
  );

  it("2.4 keys the work item by resource.workItemId", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(updated(assign("Jane <jane.doe@example.com>"), (p) => (p.resource.workItemId = 99)));
    expect(o).toMatchObject({ outcome: "ignored", reason: "no linked issue for 99" });
  });

  it("2.4 rejects a payload without a work item id", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(
      updated(assign("Jane <jane.doe@example.com>"), (p) => {
        delete p.resource.workItemId;
        delete p.resource.revision;
      }),
    );
    expect(o).toMatchObject({ outcome: "rejected", reason: "payload has no resource.workItemId" });
  });

  it("2.4 falls back to revision.id when workItemId is 0 (old documentation samples)", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(updated(assign("Jane <jane.doe@example.com>"), (p) => (p.resource.workItemId = 0)));
    expect(o).toMatchObject({ outcome: "applied" });
  });

  it("2.5 skips status sync without a project id but still syncs the assignee", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(
      updated({ ...assign("Jane <jane.doe@example.com>"), ...state("Active", "Resolved") }, (p) => delete p.resourceContainers.project),
    );
    expect(o.outcome).toBe("applied");
    expect(o.changes).toEqual([{ issue: "BACKEND-1", field: "assignee", from: "fabrikamfiber4@hotmail.com", to: "jane.doe@example.com" }]);
    expect(o.notes).toContain("payload has no resourceContainers.project.id: status not synced");
  });

  it("2.6 takes the email inside <...> of a display string", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(loadFixture("vsts-workitem-updated.json"));
    expect(o.changes).toEqual([
      { issue: "BACKEND-1", field: "assignee", from: "fabrikamfiber4@hotmail.com", to: "fabrikamfiber3@hotmail.com" },
    ]);
  });

  it("2.6 takes a bare email string as is", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(updated(assign("jane.doe@example.com")));
    expect(o.changes).toMatchObject([{ issue: "BACKEND-1", to: "jane.doe@example.com" }]);
  });

  it("2.6 takes the last <...> and checks it is an email (Sentry took the first)", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(updated(assign("a <b> <jane.doe@example.com>")));
    expect(o.changes).toMatchObject([{ to: "jane.doe@example.com" }]);
  });

  it("2.6 ignores an unparseable assignee and unassigns nothing", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(updated(assign("Jane Doe")));
    expect(o).toMatchObject({ outcome: "ignored", reason: "could not parse an email from System.AssignedTo" });
    expect((await w.issues())["BACKEND-1"]!.assignee).toBe("fabrikamfiber4@hotmail.com");
  });

  it("2.6 ignores DOMAIN\\user identities (on-premises) without an email", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(updated(assign("Jane Doe <FABRIKAM\\jdoe>")));
    expect(o.outcome).toBe("ignored");
  });

  it("2.6 reads identity objects (uniqueName, then displayName)", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(loadFixture("vsts-workitem-updated-identity-objects.json"));
    expect(o.changes).toContainEqual({ issue: "BACKEND-1", field: "assignee", from: "fabrikamfiber4@hotmail.com", to: "fabrikamfiber3@hotmail.com" });
    const viaDisplay = await w.replayOne(updated(assign({ displayName: "Jane <jane.doe@example.com>", uniqueName: "FABRIKAM\\jane" })));
    expect(viaDisplay.changes).toMatchObject([{ to: "jane.doe@example.com" }]);
  });

  it("2.6 unassigns when newValue is missing (the field was cleared)", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(updated(assign(undefined, "Jamal Hartnett <fabrikamfiber4@hotmail.com>")));
    expect(o.changes).toEqual([{ issue: "BACKEND-1", field: "assignee", from: "fabrikamfiber4@hotmail.com", to: null }]);
    expect((await w.activity()).map((a) => a.kind)).toEqual(["unassigned"]);
  });

  it("2.6 unassigns when newValue is null or empty", async () => {
    const w = await freshWorld();
    expect((await w.replayOne(updated(assign(null)))).changes).toHaveLength(1);
    expect((await w.replayOne(updated(assign("")))).outcome).toBe("ignored");
  });

  it("2.6 compares emails case-insensitively", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(updated(assign("JANE <Jane.Doe@EXAMPLE.com>")));
    expect(o.changes).toMatchObject([{ to: "jane.doe@example.com" }]);
    const again = await w.replayOne(updated(assign("jane <jane.doe@example.com>")));
    expect(again.outcome).toBe("ignored");
  });

  it("2.6 parses the Sentry reference payload (assign and unassign)", async () => {
    const w = await freshWorld();
    const assignRef = loadFixture("reference/vsts-workitem-updated-assign.json");
    const o = await w.replayOne(assignRef, ["--integration", VSTS_ID]);
    expect(o).toMatchObject({ outcome: "ignored", reason: "no linked issue for 31" });
  });

  it("2.7 resolves by the status mapping (Active -> Resolved)", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(updated(state("Active", "Resolved")));
    expect(o.changes).toEqual([{ issue: "BACKEND-1", field: "status", from: "unresolved", to: "resolved" }]);
    expect((await w.issues())["BACKEND-1"]!.status).toBe("resolved");
  });

  it("2.7 unresolves by the status mapping (Resolved -> Active)", async () => {
    const w = await freshWorld();
    await w.replayOne(updated(state("Active", "Resolved")));
    const o = await w.replayOne(updated(state("Resolved", "Active")));
    expect(o.changes).toEqual([{ issue: "BACKEND-1", field: "status", from: "resolved", to: "unresolved" }]);
  });

  it("2.7 a new work item in state New on an unresolved issue changes nothing (Sentry A7)", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(updated({ "System.State": { newValue: "New" } }));
    expect(o.outcome).toBe("ignored");
    expect(await w.activity()).toEqual([]);
  });

  it("rejects wrong types at the field that has them", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(updated({ "System.State": { oldValue: "New", newValue: 7 } }));
    expect(o).toMatchObject({ outcome: "rejected" });
    expect(o.reason).toMatch(/^resource\.fields\.System\.State\.newValue: expected/);
  });

  it("ignores a payload without resource.fields (Sentry A14)", async () => {
    const w = await freshWorld();
    const o = await w.replayOne(updated({}, (p) => delete p.resource.fields));
    expect(o).toMatchObject({ outcome: "ignored", reason: "payload has no resource.fields" });
  });
});
