import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { CredentialStore } from "../../src/config/credentials.js";
import { JIRA_ID, VSTS_ID, expectNoSecrets, outboundWorld } from "../world.js";

const w = outboundWorld();

const json = (r: { stdout: string }) => JSON.parse(r.stdout);
const outbox = async () => json(await w.run(["outbound", "list", "--json"])) as any[];
const activity = async () => json(await w.run(["activity", "--json"])) as any[];
const issue = async (id: string) => (json(await w.run(["issue", "list", "--json"])) as any[]).find((i) => i.id === id);
const fakeCalls = () => [...w.calls(w.azure), ...w.calls(w.jira)];

/** Both trackers as hooksync left them: the work item's fields and the Jira issue. */
const trackers = () => ({ workItem: w.workItems.items.get(5)!.fields, jira: w.jiraIssues.issues.get("PRJA-37")! });

describe("assign and unassign (behaviour.md 7.1, 7.4)", () => {
  it("7.1 assign changes the issue, records it as cli, and pushes to every linked tracker", async () => {
    const r = await w.run(["assign", "BACKEND-1", "jane.doe@example.com", "--json"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(json(r)).toEqual({
      issue: "BACKEND-1",
      changes: [{ issue: "BACKEND-1", field: "assignee", from: null, to: "jane.doe@example.com" }],
      pushes: [
        { id: expect.any(Number), kind: "assignee", issue: "BACKEND-1", integration: VSTS_ID, externalKey: "5", ok: true, detail: "work item 5 assigned to jane.doe@example.com", error: null },
        { id: expect.any(Number), kind: "assignee", issue: "BACKEND-1", integration: JIRA_ID, externalKey: "PRJA-37", ok: true, detail: "PRJA-37 assigned to jdoe", error: null },
      ],
    });
    expect((await issue("BACKEND-1")).assignee).toBe("jane.doe@example.com");
    expect(await activity()).toEqual([
      { issue: "BACKEND-1", kind: "assigned", from: null, to: "jane.doe@example.com", source: "cli", delivery: null, at: "2026-01-02T03:04:05.000Z" },
    ]);
    expect(trackers().workItem["System.AssignedTo"]).toBe("jane.doe@example.com");
    expect(trackers().jira.assignee).toBe("jdoe");
    expect((await outbox()).map((o) => o.state)).toEqual(["done", "done"]);
  });

  it("7.4 Azure DevOps gets a JSON Patch on System.AssignedTo; Jira a user search by email, then the user name", async () => {
    await w.run(["assign", "BACKEND-1", "jane.doe@example.com"]);
    const [patch] = w.azure.requests;
    expect(patch!.method).toBe("PATCH");
    expect(patch!.url.pathname + patch!.url.search).toBe("/fabrikam/_apis/wit/workitems/5?api-version=7.1");
    expect(patch!.headers["content-type"]).toBe("application/json-patch+json");
    expect(patch!.json()).toEqual([{ op: "replace", path: "/fields/System.AssignedTo", value: "jane.doe@example.com" }]);
    const [search, put] = w.jira.requests;
    expect(search!.url.pathname).toBe("/rest/api/2/user/assignable/search");
    expect(Object.fromEntries(search!.url.searchParams)).toEqual({ issueKey: "PRJA-37", username: "jane.doe@example.com" });
    expect(`${put!.method} ${put!.url.pathname} ${put!.body}`).toBe('PUT /rest/api/2/issue/PRJA-37/assignee {"name":"jdoe"}');
    expect(put!.headers.authorization).toMatch(/^OAuth /);
  });

  it("7.4 unassign removes System.AssignedTo and sends Jira a null name", async () => {
    await w.run(["assign", "BACKEND-1", "jane.doe@example.com"]);
    w.azure.reset();
    w.jira.reset();
    const r = await w.run(["unassign", "BACKEND-1"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      "BACKEND-1 assignee jane.doe@example.com -> (none)\n" +
        "  pushed BACKEND-1 assignee to c12d0eb8 5: work item 5 unassigned\n" +
        `  pushed BACKEND-1 assignee to ${JIRA_ID} PRJA-37: PRJA-37 unassigned\n`,
    );
    expect(fakeCalls()).toEqual([
      'PATCH /fabrikam/_apis/wit/workitems/5 [{"op":"remove","path":"/fields/System.AssignedTo"}]',
      'PUT /rest/api/2/issue/PRJA-37/assignee {"name":null}',
    ]);
    expect(trackers().workItem["System.AssignedTo"]).toBeUndefined();
    expect(trackers().jira.assignee).toBeNull();
  });

  it("7.4 unassigning a work item that is already unassigned is done (Azure DevOps answers 400 to the remove)", async () => {
    await w.importData({ issues: [{ id: "BACKEND-1", project: "backend", title: "TypeError in checkout", status: "unresolved", assignee: "jane.doe@example.com" }] });
    const r = await w.run(["unassign", "BACKEND-1", "--json"]);
    expect(r.code).toBe(0);
    expect(json(r).pushes[0]).toMatchObject({ integration: VSTS_ID, ok: true, detail: "work item 5 was not assigned" });
    expect(w.calls(w.azure)).toEqual([
      'PATCH /fabrikam/_apis/wit/workitems/5 [{"op":"remove","path":"/fields/System.AssignedTo"}]',
      "GET /fabrikam/_apis/wit/workitems/5",
    ]);
  });

  it("7.4 a user Jira cannot find or assign is a failed push with the reason", async () => {
    w.jiraIssues.unassignable.add("jdoe");
    const r = await w.run(["assign", "BACKEND-1", "jane.doe@example.com", "--json"]);
    expect(r.code).toBe(0);
    expect(json(r).pushes[1]).toMatchObject({
      integration: JIRA_ID,
      ok: false,
      error: "Jira has no user with email jane.doe@example.com who may be assigned PRJA-37 (the user needs a Jira account with that email and the Assignable User permission in the issue's project)",
    });
    expect(trackers().jira.assignee).toBeNull();
  });

  it("4.4 assign refuses a user who is not a verified member of the issue's project, and writes nothing", async () => {
    for (const email of ["mallory@example.com", "nobody@example.com"]) {
      const r = await w.run(["assign", "BACKEND-1", email]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`hooksync: no verified member ${email} in project backend (`);
    }
    expect(await activity()).toEqual([]);
    expect(await outbox()).toEqual([]);
    expect(fakeCalls()).toEqual([]);
  });

  it("refuses an unknown issue as a usage error", async () => {
    const r = await w.run(["unassign", "BACKEND-99"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("hooksync: no issue BACKEND-99 (see 'hooksync issue list')\n");
  });
});

describe("resolve and unresolve (behaviour.md 7.1, 7.4)", () => {
  it("7.4 resolve sets the first mapped state and moves the Jira issue by the transition to the mapped status", async () => {
    const r = await w.run(["resolve", "BACKEND-1", "--json"]);
    expect(r.code).toBe(0);
    expect(json(r).pushes.map((p: any) => p.detail)).toEqual(["work item 5 moved to Closed", 'PRJA-37 moved to Done (10001) by "To Done"']);
    expect(fakeCalls()).toEqual([
      "GET /fabrikam/_apis/wit/workitems/5",
      "GET /fabrikam/_apis/projects/Fabrikam-Fiber-Git",
      'PATCH /fabrikam/_apis/wit/workitems/5 [{"op":"replace","path":"/fields/System.State","value":"Closed"}]',
      "GET /rest/api/2/issue/PRJA-37",
      "GET /rest/api/2/issue/PRJA-37/transitions",
      'POST /rest/api/2/issue/PRJA-37/transitions {"transition":{"id":"31"}}',
    ]);
    expect(trackers().workItem["System.State"]).toBe("Closed");
    expect(trackers().jira.status).toBe("10001");
    expect((await issue("BACKEND-1")).status).toBe("resolved");
  });

  it("7.4 a tracker already in a mapped status is left alone", async () => {
    await w.importData({ issues: [{ id: "BACKEND-1", project: "backend", title: "TypeError in checkout", status: "resolved", assignee: null }] });
    // Both trackers are in "New" / "To Do", mapped to unresolved.
    const r = await w.run(["unresolve", "BACKEND-1", "--json"]);
    expect(json(r).pushes.map((p: any) => [p.ok, p.detail])).toEqual([
      [true, "work item 5 is already New"],
      [true, "PRJA-37 is already To Do (10000)"],
    ]);
    expect(fakeCalls().filter((c) => !c.startsWith("GET"))).toEqual([]);
  });

  it("7.4 no transition to the mapped status is a failed push that says so, and nothing is posted", async () => {
    w.jiraIssues.unreachable.add("10001");
    const r = await w.run(["resolve", "BACKEND-1", "--json"]);
    expect(r.code).toBe(0);
    expect(json(r).pushes[1]).toMatchObject({
      ok: false,
      error: "Jira offers no transition from To Do (10000) to 10001 for PRJA-37 (the issue's workflow must allow the move; check the status mapping names the right status ids)",
    });
    expect(w.calls(w.jira).filter((c) => c.startsWith("POST"))).toEqual([]);
    expect(r.stderr).toContain(`hooksync: BACKEND-1 status to ${JIRA_ID} PRJA-37 failed: Jira offers no transition`);
  });

  it("7.4 a status push needs a mapping for the tracker's project", async () => {
    w.workItems.items.get(5)!.project = { id: "0f6a4b9e-0000-4000-8000-000000000001", name: "Other" };
    const r = await w.run(["resolve", "BACKEND-1", "--json"]);
    expect(json(r).pushes[0]).toMatchObject({
      ok: false,
      error: `no status mapping for Azure DevOps project Other (0f6a4b9e-0000-4000-8000-000000000001) (add a statusMappings entry with "externalProject": "0f6a4b9e-0000-4000-8000-000000000001" and run 'hooksync import')`,
    });
  });

  it("7.4 a transition is never posted twice: a lost answer leaves it for retry, which reads the status first", async () => {
    w.jira.failNext({ status: 503 }, { match: (q) => q.method === "POST" });
    const r = await w.run(["resolve", "BACKEND-1", "--json"]);
    expect(json(r).pushes[1]).toMatchObject({ ok: false, error: expect.stringContaining("Jira failed (HTTP 503 on move PRJA-37)") });
    expect(w.calls(w.jira).filter((c) => c.startsWith("POST"))).toHaveLength(1);
    // Jira did move it after all; the retry sees that and posts nothing.
    w.jiraIssues.issues.get("PRJA-37")!.status = "10001";
    w.jira.reset();
    const again = await w.run(["outbound", "retry", "--json"]);
    expect(again.code).toBe(0);
    expect(json(again)).toEqual([expect.objectContaining({ externalKey: "PRJA-37", ok: true, detail: "PRJA-37 is already Done (10001)" })]);
    expect(w.calls(w.jira)).toEqual(["GET /rest/api/2/issue/PRJA-37"]);
  });
});

describe("what is pushed where (behaviour.md 1.2, 7.1)", () => {
  it("1.2 pushes nothing when nothing changed", async () => {
    await w.run(["assign", "BACKEND-1", "jane.doe@example.com"]);
    await w.run(["resolve", "BACKEND-1"]);
    w.azure.reset();
    w.jira.reset();
    for (const argv of [["assign", "BACKEND-1", "JANE.DOE@example.com"], ["resolve", "BACKEND-1"], ["unassign", "OPS-1"]]) {
      const r = await w.run([...argv, "--json"]);
      expect(r.code).toBe(0);
      expect(json(r)).toMatchObject({ changes: [], pushes: [] });
    }
    expect(fakeCalls()).toEqual([]);
    expect(await activity()).toHaveLength(2);
    expect(await outbox()).toHaveLength(4);
  });

  it("7.1 an organization without outbound sync pushes nothing", async () => {
    const r = await w.run(["assign", "OPS-1", "jane.doe@example.com", "--json"]);
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ changes: [{ issue: "OPS-1", to: "jane.doe@example.com" }], pushes: [] });
    expect(fakeCalls()).toEqual([]);
    expect(await outbox()).toEqual([]);
  });

  it("7.1 outbound assignee and status are separate settings", async () => {
    await w.importData({ sync: [{ organization: "acme", integration: JIRA_ID, inboundAssignee: true, inboundStatus: true, outboundAssignee: false, outboundStatus: true }] });
    const assigned = json(await w.run(["assign", "BACKEND-1", "jane.doe@example.com", "--json"]));
    const resolved = json(await w.run(["resolve", "BACKEND-1", "--json"]));
    expect(assigned.pushes.map((p: any) => p.integration)).toEqual([VSTS_ID]);
    expect(resolved.pushes.map((p: any) => p.integration)).toEqual([VSTS_ID, JIRA_ID]);
  });
});

describe("failed pushes (behaviour.md 7.3)", () => {
  it("7.3 a failed push is recorded, the command still succeeds, and 'outbound retry' sends it", async () => {
    w.azure.failNext({ status: 503 }, { times: 4 });
    const r = await w.run(["assign", "BACKEND-1", "jane.doe@example.com"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`BACKEND-1 assignee (none) -> jane.doe@example.com\n  pushed BACKEND-1 assignee to ${JIRA_ID} PRJA-37: PRJA-37 assigned to jdoe\n`);
    expect(r.stderr).toBe(
      "hooksync: BACKEND-1 assignee to c12d0eb8 5 failed: Azure DevOps failed (HTTP 503 on assign work item 5) " +
        "(the server is having trouble; try again later; gave up after 4 attempts)\n" +
        "1 push stays queued: 'hooksync outbound retry' sends it again\n",
    );
    expect(r.sleeps).toHaveLength(3);
    const [failed] = (await outbox()).filter((o) => o.state !== "done");
    expect(failed).toMatchObject({ kind: "assignee", integration: VSTS_ID, externalKey: "5", to: "jane.doe@example.com", via: "cli", state: "pending", attempts: 1 });
    expect(failed.error).toContain("HTTP 503");
    expect(trackers().workItem["System.AssignedTo"]).toBeUndefined();

    const retry = await w.run(["outbound", "retry"]);
    expect(retry.code).toBe(0);
    expect(retry.stdout).toBe("  pushed BACKEND-1 assignee to c12d0eb8 5: work item 5 assigned to jane.doe@example.com\n");
    expect(trackers().workItem["System.AssignedTo"]).toBe("jane.doe@example.com");
    expect((await outbox()).map((o) => [o.state, o.attempts])).toEqual([
      ["done", 2],
      ["done", 1],
    ]);
    // Nothing left: a second retry sends nothing.
    w.azure.reset();
    w.jira.reset();
    expect((await w.run(["outbound", "retry"])).stdout).toBe("nothing to send\n");
    expect(fakeCalls()).toEqual([]);
  });

  it("7.3 --strict makes a failed push exit 1; outbound retry exits 1 while one still fails", async () => {
    w.jira.failNext({ status: 500 }, { times: 10 });
    const strict = await w.run(["assign", "BACKEND-1", "jane.doe@example.com", "--strict"]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain("hooksync: 1 of 2 pushes failed (they stay queued for 'hooksync outbound retry')");
    const retry = await w.run(["outbound", "retry", "--json"]);
    expect(retry.code).toBe(1);
    expect(json(retry)).toEqual([expect.objectContaining({ integration: JIRA_ID, ok: false })]);
  });

  it("7.3 a newer change replaces an unsent push of the same field: retry never sends a stale value", async () => {
    w.azure.failNext({ status: 503 }, { times: 4 });
    await w.run(["assign", "BACKEND-1", "jane.doe@example.com"]);
    await w.run(["assign", "BACKEND-1", "bob.smith@example.com"]);
    const unsent = (await outbox()).filter((o) => o.state !== "done");
    expect(unsent).toEqual([]);
    expect(trackers().workItem["System.AssignedTo"]).toBe("bob.smith@example.com");
  });

  it("7.3 a tracker without credentials fails its pushes with what to do; the others go through", async () => {
    const r = await w.run(["assign", "BACKEND-1", "jane.doe@example.com", "--json"], { env: { AZURE_DEVOPS_EXT_PAT: "" } });
    expect(r.code).toBe(0);
    expect(json(r).pushes.map((p: any) => [p.integration, p.ok, p.error])).toEqual([
      [VSTS_ID, false, "Azure DevOps personal access token: no terminal to ask on (supply it with AZURE_DEVOPS_EXT_PAT or --pat-stdin)"],
      [JIRA_ID, true, null],
    ]);
    const retry = await w.run(["outbound", "retry", "--pat-stdin"], { stdin: `${w.azure.state.pat}\n`, env: { AZURE_DEVOPS_EXT_PAT: "" } });
    expect(retry.code).toBe(0);
    expect(trackers().workItem["System.AssignedTo"]).toBe("jane.doe@example.com");
  });

  it("pushes with an Entra ID token from --token-stdin, as subscribe takes it", async () => {
    w.azure.state.bearerTokens.add("entra-token-0123456789");
    const r = await w.run(["assign", "BACKEND-1", "jane.doe@example.com", "--token-stdin", "--json"], { stdin: "entra-token-0123456789\n", env: { AZURE_DEVOPS_EXT_PAT: "" } });
    expect(r.code).toBe(0);
    expect(json(r).pushes.map((p: any) => [p.integration, p.ok])).toEqual([
      [VSTS_ID, true],
      [JIRA_ID, true],
    ]);
    expect(trackers().workItem["System.AssignedTo"]).toBe("jane.doe@example.com");
  });

  it("7.3 a push whose link was removed since it was queued is not sent", async () => {
    w.jira.failNext({ status: 500 }, { times: 4 });
    await w.run(["assign", "BACKEND-1", "jane.doe@example.com"]);
    const db = new Database(w.db);
    db.prepare("DELETE FROM links WHERE external_key = 'PRJA-37'").run();
    db.close();
    w.jira.reset();
    const retry = await w.run(["outbound", "retry", "--json"]);
    expect(json(retry)).toEqual([expect.objectContaining({ externalKey: "PRJA-37", ok: true, detail: "not sent: BACKEND-1 is no longer linked to PRJA-37" })]);
    expect(w.jira.requests).toEqual([]);
  });

  it("outbound list, retry --id and discard", async () => {
    w.azure.failNext({ status: 503 }, { times: 8 });
    await w.run(["assign", "BACKEND-1", "jane.doe@example.com"]);
    await w.run(["resolve", "BACKEND-1"]);
    const unsent = (await outbox()).filter((o) => o.state === "pending");
    expect(unsent.map((o) => o.kind)).toEqual(["assignee", "status"]);
    const list = await w.run(["outbound", "list", "--state", "pending"]);
    expect(list.stdout).toMatch(/^ID +ISSUE +PUSH +TO +STATE +LAST ERROR\n/);
    expect(list.stdout).toContain("BACKEND-1  assignee -> jane.doe@example.com  c12d0eb8 5");

    const one = await w.run(["outbound", "retry", "--id", String(unsent[1].id), "--json"]);
    expect(json(one).map((p: any) => [p.id, p.ok])).toEqual([[unsent[1].id, true]]);
    const discard = await w.run(["outbound", "discard", String(unsent[0].id)]);
    expect(discard.stdout).toBe(`discarded ${unsent[0].id}\n`);
    expect((await outbox()).filter((o) => o.state !== "done")).toEqual([]);
    expect((await w.run(["outbound", "discard", String(unsent[1].id)])).code).toBe(2);
    expect((await w.run(["outbound", "retry", "--id", "x"])).code).toBe(2);
  });

  it("never prints a token, even with -v", async () => {
    const token = (await CredentialStore.open(w.env)).jiraFor({ externalId: JIRA_ID, baseUrl: w.jira.url })!.accessToken;
    w.azure.failNext({ status: 401 });
    const r = await w.run(["assign", "BACKEND-1", "jane.doe@example.com", "-v"]);
    expect(r.stderr).toContain("PATCH");
    expect(r.stderr).toContain("the token was refused");
    expectNoSecrets(r, [w.azure.state.pat, token, Buffer.from(`:${w.azure.state.pat}`).toString("base64")]);
  });
});
