import { describe, expect, it } from "vitest";
import { jira } from "../../../src/providers/jira/parse.js";
import { simulateJira } from "../../../src/providers/jira/simulate.js";

const r = { now: new Date("2026-01-02T03:04:05.000Z"), random: (n: number) => Buffer.alloc(n, 1) };
const base = { event: "issue_updated", baseUrl: "http://jira.acme.test", issue: "OPS-12" };

describe("simulateJira", () => {
  it("builds an issue_updated the Jira parser reads as the flags say", () => {
    const payload = simulateJira({ ...base, assignee: "jane.doe@example.com", status: "3", fromStatus: "10000", project: "10100" }, r);
    expect(jira.parse(payload)).toMatchObject({
      ok: true,
      event: "jira:issue_updated",
      events: [
        { kind: "assignee", externalKey: "OPS-12", email: "jane.doe@example.com" },
        { kind: "status", externalKey: "OPS-12", externalProject: "10100", from: "10000", to: "3" },
      ],
    });
    expect(payload).toMatchObject({ issue_event_type_name: "issue_generic", timestamp: 1767323045000 });
    expect((payload.issue as any).fields).toMatchObject({
      assignee: { name: "jane.doe", displayName: "Jane Doe", emailAddress: "jane.doe@example.com" },
      status: { id: "3", name: "In Progress", statusCategory: { key: "indeterminate" } },
      project: { id: "10100", key: "OPS", self: "http://jira.acme.test/rest/api/2/project/10100" },
      updated: "2026-01-02T03:04:05.000+0000",
      resolution: null,
    });
    expect(jira.deliveryIdentity(payload, {})).toBe(`${(payload.changelog as any).id}:10012:1767323045000`);
  });

  it("unassigns with a null assignee (rule 3.5)", () => {
    const payload = simulateJira({ ...base, unassign: true }, r);
    expect(payload.issue_event_type_name).toBe("issue_assigned");
    expect(jira.parse(payload)).toMatchObject({ events: [{ kind: "assignee", email: null }] });
  });

  it("resolves with a resolution item first when the status is a done one", () => {
    const payload = simulateJira({ ...base, status: "10001" }, r);
    expect((payload.changelog as any).items.map((i: any) => i.field)).toEqual(["resolution", "status"]);
    expect((payload.issue as any).fields.resolution).toMatchObject({ name: "Done" });
  });

  it("names statuses it does not know by their id", () => {
    const payload = simulateJira({ ...base, status: "12345" }, r);
    expect((payload.issue as any).fields.status).toMatchObject({ id: "12345", name: "Status 12345" });
  });

  it("sends issue_created without a changelog, as Jira Server does", () => {
    const payload = simulateJira({ ...base, event: "issue_created", assignee: "bob@example.com" }, r);
    expect(payload.changelog).toBeUndefined();
    expect(jira.parse(payload)).toMatchObject({ ok: true, notes: ["no changelog"] });
  });
});
