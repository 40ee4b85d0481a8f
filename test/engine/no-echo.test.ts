import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fixture, ndjson } from "../helpers.js";
import { backends, storeTargets } from "../pg.js";
import { JIRA_ID, VSTS_ID, VSTS_PROJECT, outboundWorld } from "../world.js";

const stores = storeTargets("engine_no_echo");

const load = (name: string): any => JSON.parse(readFileSync(fixture(name), "utf8"));
const vsts = (fields: Record<string, unknown>, workItem = 5) => {
  const p = load("vsts-workitem-updated.json");
  p.resource.workItemId = workItem;
  p.resource.fields = fields;
  p.resourceContainers.project.id = VSTS_PROJECT.id;
  return p;
};
/** Jira tells of Bob (bsmith) taking PRJA-37 over. */
const jiraAssign = () => load("jira-issue-updated-assignee.json");

describe.each(backends)("no echo (behaviour.md 7.2) on %s", (backend) => {
  const w = outboundWorld(() => stores(backend));

  async function replay(...payloads: unknown[]) {
    const r = await w.run(["replay", "-", "--json"], { stdin: payloads.map((p) => JSON.stringify(p)).join("\n") });
    return { ...r, outcomes: ndjson(r.stdout) };
  }
  const queued = async () =>
    (JSON.parse((await w.run(["outbound", "list", "--json"])).stdout) as any[]).map((o) => ({ kind: o.kind, integration: o.integration, key: o.externalKey, to: o.to, via: o.via, state: o.state }));

  it("7.2 an assignee change from Azure DevOps is queued for Jira only, and sent there only", async () => {
    const r = await replay(vsts({ "System.AssignedTo": { newValue: "Jane Doe <jane.doe@example.com>" } }));
    expect(r.outcomes[0]).toMatchObject({ outcome: "applied", changes: [{ issue: "BACKEND-1", field: "assignee", to: "jane.doe@example.com" }] });
    expect(r.stderr).toContain("1 push to trackers or Discord queued: 'hooksync outbound send' sends them");
    // Replay stays offline: queued, not sent.
    expect(w.azure.requests).toEqual([]);
    expect(w.jira.requests).toEqual([]);
    expect(await queued()).toEqual([{ kind: "assignee", integration: JIRA_ID, key: "PRJA-37", to: "jane.doe@example.com", via: "vsts", state: "pending" }]);

    const send = await w.run(["outbound", "send"]);
    expect(send.code).toBe(0);
    expect(w.azure.requests).toEqual([]);
    expect(w.calls(w.jira)).toEqual(["GET /rest/api/2/user/assignable/search", 'PUT /rest/api/2/issue/PRJA-37/assignee {"name":"jdoe"}']);
  });

  it("7.2 an assignee change from Jira is queued for Azure DevOps only", async () => {
    const r = await replay(jiraAssign());
    expect(r.outcomes[0]).toMatchObject({ outcome: "applied", integration: JIRA_ID });
    expect(await queued()).toEqual([{ kind: "assignee", integration: VSTS_ID, key: "5", to: "bob.smith@example.com", via: "jira", state: "pending" }]);
    await w.run(["outbound", "send"]);
    expect(w.workItems.items.get(5)!.fields["System.AssignedTo"]).toBe("bob.smith@example.com");
    expect(w.jira.requests).toEqual([]);
  });

  it("7.2 a status change from Jira is queued for Azure DevOps only", async () => {
    const p = load("jira-issue-updated-status-resolved.json");
    await replay(p);
    expect(await queued()).toEqual([{ kind: "status", integration: VSTS_ID, key: "5", to: "resolved", via: "jira", state: "pending" }]);
    await w.run(["outbound", "send"]);
    expect(w.workItems.items.get(5)!.fields["System.State"]).toBe("Closed");
  });

  it("7.2 a change that came from the tracker supersedes an unsent push of that field to it", async () => {
    // A local assign whose push to Azure DevOps failed (it waits, pending, for its next attempt)...
    w.azure.failNext({ status: 503 }, { times: 4 });
    await w.run(["assign", "BACKEND-1", "jane.doe@example.com"]);
    expect((await queued()).filter((q) => q.state === "pending")).toEqual([expect.objectContaining({ integration: VSTS_ID, to: "jane.doe@example.com" })]);
    // ...then Azure DevOps says Bob has it: Azure DevOps holds the newest value, Jira follows it.
    await replay(vsts({ "System.AssignedTo": { newValue: "Bob Smith <bob.smith@example.com>" } }));
    expect((await queued()).filter((q) => q.state !== "done")).toEqual([
      { kind: "assignee", integration: JIRA_ID, key: "PRJA-37", to: "bob.smith@example.com", via: "vsts", state: "pending" },
    ]);
  });

  it("7.2 nothing is queued by a dry run, an unchanged issue, or an organization without outbound sync", async () => {
    await replay(vsts({ "System.AssignedTo": { newValue: "Jane Doe <jane.doe@example.com>" } }));
    const before = await queued();
    const dry = await w.run(["replay", "-", "--dry-run", "--json"], { stdin: JSON.stringify(vsts({ "System.State": { oldValue: "New", newValue: "Closed" } })) });
    expect(ndjson(dry.stdout)[0]).toMatchObject({ outcome: "applied" });
    const again = await replay(vsts({ "System.AssignedTo": { newValue: "Jane Doe <jane.doe@example.com>" } }));
    expect(again.outcomes[0]).toMatchObject({ outcome: "ignored" });
    // Work item 7 is OPS-1's, in globex, which takes inbound sync only.
    const globex = await replay(vsts({ "System.AssignedTo": { newValue: "Jane Doe <jane.doe@example.com>" } }, 7));
    expect(globex.outcomes[0]).toMatchObject({ outcome: "applied", changes: [{ issue: "OPS-1" }] });
    expect(globex.stderr).not.toContain("queued");
    expect(await queued()).toEqual(before);
  });
});
