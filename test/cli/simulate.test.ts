import { describe, expect, it } from "vitest";
import { createServer } from "node:net";
import { ndjson, run, runBin } from "../helpers.js";
import { receiver } from "../receiver/harness.js";
import { JIRA_ID, VSTS_ID, VSTS_PROJECT, loadFixture, world } from "../world.js";

/** A loopback port nothing listens on. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** Every key path of a JSON value (array elements folded together), to compare shapes. */
function shape(value: unknown, prefix = "", out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => shape(v, `${prefix}[]`, out));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.add(`${prefix}.${k}`);
      shape(v, `${prefix}.${k}`, out);
    }
  }
  return out;
}
const missing = (fixtureShape: Set<string>, payloadShape: Set<string>) => [...fixtureShape].filter((p) => !payloadShape.has(p));

const VSTS_ASSIGN = ["simulate", "vsts", "workitem.updated", "--work-item", "5", "--assign", "Jane Doe <jane.doe@example.com>", "--state", "Closed", "--from-state", "Active"];
const JIRA_ASSIGN = ["simulate", "jira", "issue_updated", "--issue", "PRJA-37", "--assignee", "jane.doe@example.com", "--status", "10001", "--from-status", "3"];

describe("hooksync simulate", () => {
  it("runs a VSTS work item update through the engine and prints replay's JSON line", async () => {
    const w = await world();
    const r = await w.run([...VSTS_ASSIGN, "--json"]);
    expect(r.code).toBe(0);
    const [line] = ndjson(r.stdout);
    expect(line).toEqual({
      source: "simulate",
      provider: "vsts",
      event: "workitem.updated",
      integration: VSTS_ID,
      outcome: "applied",
      reason: null,
      changes: [
        { issue: "BACKEND-1", field: "assignee", from: "fabrikamfiber4@hotmail.com", to: "jane.doe@example.com" },
        { issue: "BACKEND-1", field: "status", from: "unresolved", to: "resolved" },
      ],
      notes: ["inbound assignee sync is off for globex", "inbound status sync is off for globex"],
    });
    expect((await w.activity()).map((a) => a.source)).toEqual(["simulate", "simulate"]);
  });

  it("runs a Jira update through the engine with the only Jira integration", async () => {
    const w = await world();
    const r = await w.run([...JIRA_ASSIGN]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^applied {2}simulate jira jira:issue_updated: /);
    const issues = await w.issues();
    expect([issues["WEB-1"]?.assignee, issues["WEB-1"]?.status]).toEqual(["jane.doe@example.com", "resolved"]);
  });

  it("names on the applied line what it skipped and why (an assignee who is not a member)", async () => {
    const w = await world();
    const r = await w.run(["simulate", "vsts", "workitem.updated", "--work-item", "5", "--assign", "Jane Doe <jane@example.com>", "--state", "Closed", "--no-color"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^applied {2}simulate vsts workitem.updated: BACKEND-1 status unresolved -> resolved \(skipped: .*no verified member jane@example.com in project backend/);
  });

  it("takes --assignee, --status and --from-status on both trackers, and vsts's older --assign, --state, --from-state", async () => {
    const w = await world();
    const fields = async (flags: string[]) => {
      const printed = JSON.parse((await w.run(["simulate", "vsts", "workitem.updated", "--work-item", "5", ...flags, "--print"])).stdout);
      return printed.resource.fields;
    };
    const canonical = await fields(["--assignee", "Jane Doe <jane.doe@example.com>", "--status", "Closed", "--from-status", "Active"]);
    expect(canonical).toMatchObject({ "System.AssignedTo": { newValue: "Jane Doe <jane.doe@example.com>" }, "System.State": { oldValue: "Active", newValue: "Closed" } });
    expect(await fields(["--assign", "Jane Doe <jane.doe@example.com>", "--state", "Closed", "--from-state", "Active"])).toEqual(canonical);
    const help = (await w.run(["simulate", "vsts", "--help"])).stdout;
    expect(help).toMatch(/--assignee <identity>[\s\S]*--status <name>[\s\S]*--from-status <name>/);
    expect(help).not.toMatch(/^\s+--(assign|state|from-state) /m);
  });

  it("shows a --set example of each tracker's own payload", async () => {
    const jira = (await run(["simulate", "jira", "--help"])).stdout;
    expect(jira).toContain("issue.fields.summary=");
    expect(jira).not.toContain("resource.fields");
    expect((await run(["simulate", "vsts", "--help"])).stdout).toContain("resource.fields[System.State].newValue=Closed");
  });

  it("builds payloads with every field of the real deliveries (the fixtures' shape)", async () => {
    const w = await world();
    const vsts = JSON.parse((await w.run([...VSTS_ASSIGN, "--print"])).stdout);
    const vstsFixture = loadFixture("vsts-workitem-updated.json");
    // The fixture's update also changed these, and knew the previous assignee; a simulation
    // changes what the flags name and knows no history.
    expect(missing(shape(vstsFixture), shape(vsts)).sort()).toEqual(
      [
        ".resource.fields.Microsoft.VSTS.Common.ActivatedBy",
        ".resource.fields.Microsoft.VSTS.Common.ActivatedBy.newValue",
        ".resource.fields.Microsoft.VSTS.Common.ActivatedDate",
        ".resource.fields.Microsoft.VSTS.Common.ActivatedDate.newValue",
        ".resource.fields.Microsoft.VSTS.Common.StateChangeDate.oldValue",
        ".resource.fields.System.AssignedTo.oldValue",
        ".resource.fields.System.Reason",
        ".resource.fields.System.Reason.newValue",
        ".resource.fields.System.Reason.oldValue",
      ],
    );
    expect(vsts.resourceContainers.collection).toEqual({ id: VSTS_ID, baseUrl: "https://dev.azure.com/fabrikam-fiber-inc/" });
    expect(vsts.resource.fields["System.State"]).toEqual({ oldValue: "Active", newValue: "Closed" });
    expect(vsts.resource.revision.fields["System.AssignedTo"]).toBe("Jane Doe <jane.doe@example.com>");
    expect(vsts.detailedMessage.text).toMatch(/- New State: Closed\r\n- New Assigned to: Jane Doe\r\n$/);
    expect(vsts.resource._links.parent.href).toBe(`https://dev.azure.com/fabrikam-fiber-inc/${VSTS_PROJECT.id}/_apis/wit/workItems/5`);
    expect(vsts.createdDate).toBe("2026-01-02T03:04:05.000Z");

    const jira = JSON.parse((await w.run([...JIRA_ASSIGN, "--print"])).stdout);
    const jiraShape = shape(jira);
    for (const name of ["jira-issue-updated-assignee.json", "jira-issue-updated-status-resolved.json"]) {
      expect(missing(shape(loadFixture(name)), jiraShape)).toEqual([]);
    }
    expect(jira.changelog.items.map((i: any) => [i.field, i.from, i.to, i.toString])).toEqual([
      ["assignee", null, "jane.doe", "Jane Doe"],
      ["resolution", null, "10000", "Done"],
      ["status", "3", "10001", "Done"],
    ]);
    expect(jira.issue.fields.status).toMatchObject({ id: "10001", name: "Done", statusCategory: { key: "done" } });
    expect(jira.timestamp).toBe(Date.parse("2026-01-02T03:04:05.000Z"));
    expect(jira.issue.fields.project).toMatchObject({ id: "10002", key: "PRJA" });
  });

  it("gives every payload fresh ids, so a receiver never takes one for a redelivery", async () => {
    const w = await world();
    const [a, b] = await Promise.all([w.run([...VSTS_ASSIGN, "--print", "--json"]), w.run([...VSTS_ASSIGN, "--print", "--json"])]);
    const [pa, pb] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
    expect(pa.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(pa.id).not.toBe(pb.id);
    expect(pa.notificationId).not.toBe(pb.notificationId);
    expect(typeof pa.notificationId).toBe("number");
    const [ja, jb] = await Promise.all([w.run([...JIRA_ASSIGN, "--print"]), w.run([...JIRA_ASSIGN, "--print"])]);
    expect(JSON.parse(ja.stdout).changelog.id).not.toBe(JSON.parse(jb.stdout).changelog.id);
  });

  it("applies --set overrides: nested keys, bracketed keys with dots, list indexes, JSON or text values", async () => {
    const w = await world();
    const r = await w.run([
      ...VSTS_ASSIGN,
      "--print",
      "--set", "resource.rev=9",
      "--set", "resource.fields[System.State].newValue=Resolved",
      "--set", "message.text=hello world",
      "--set", "resource.revisedBy.extra.deep=[1,2]",
      "--set", "resourceContainers.project=null",
      "--set", 'scope="all"',
    ]);
    expect(r.code).toBe(0);
    const p = JSON.parse(r.stdout);
    expect([p.resource.rev, p.resource.fields["System.State"].newValue, p.message.text, p.resource.revisedBy.extra, p.resourceContainers.project, p.scope]).toEqual([
      9,
      "Resolved",
      "hello world",
      { deep: [1, 2] },
      null,
      "all",
    ]);
    const jira = await w.run([...JIRA_ASSIGN, "--print", "--set", "changelog.items[2].to=3", "--set", "changelog.items.3={\"field\":\"priority\"}"]);
    expect(JSON.parse(jira.stdout).changelog.items.slice(2)).toMatchObject([{ field: "status", to: 3 }, { field: "priority" }]);
  });

  it.each([
    ["__proto__.polluted=1", /the key __proto__ is not allowed/],
    ["resource.constructor.prototype.x=1", /the key constructor is not allowed/],
    ["a[prototype]=1", /the key prototype is not allowed/],
    ["noequals", /expected <path>=<value>/],
    ["=1", /expected <path>=<value>/],
    ["a..b=1", /expected <path>=<value>/],
    ["issue.id.x=1", /issue.id is a string, not an object/],
    ["changelog.items.7=1", /changelog.items is a list of 0/],
  ])("refuses --set %s with a usage error", async (set, message) => {
    const w = await world();
    const r = await w.run(["simulate", "jira", "issue_updated", "--issue", "PRJA-37", "--print", "--set", set]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("rolls back with --dry-run", async () => {
    const w = await world();
    const before = await w.issues();
    const r = await w.run([...JIRA_ASSIGN, "--dry-run", "--json"]);
    expect(r.code).toBe(0);
    expect(ndjson(r.stdout)[0]).toMatchObject({ outcome: "applied" });
    expect(r.stderr).toContain("dry run, nothing written");
    expect(await w.issues()).toEqual(before);
  });

  it("reports ignored and rejected payloads like replay (exit 1 when rejected)", async () => {
    const w = await world();
    expect(ndjson((await w.run(["simulate", "jira", "issue_created", "--issue", "PRJA-37", "--assignee", "jane.doe@example.com", "--json"])).stdout)[0]).toMatchObject({
      outcome: "ignored",
      reason: "no changelog",
    });
    expect(ndjson((await w.run(["simulate", "vsts", "git.push", "--json"])).stdout)[0]).toMatchObject({ outcome: "ignored", reason: "event type git.push is not synced" });
    const rejected = await w.run(["simulate", "vsts", "workitem.updated", "--work-item", "5", "--set", "resource.workItemId=0", "--set", "resource.revision.id=0", "--json"]);
    expect(rejected.code).toBe(1);
    expect(ndjson(rejected.stdout)[0]).toMatchObject({ outcome: "rejected", reason: "payload has no resource.workItemId" });
  });

  it.each([
    [["simulate", "vsts", "workitem.updated"], /workitem.updated needs --work-item <id>/],
    [["simulate", "vsts", "workitem.updated", "--work-item", "five"], /needs --work-item <id>, the work item number/],
    [["simulate", "vsts", "git.push", "--state", "Closed"], /--status applies to work item events, not git.push/],
    [["simulate", "vsts", "workitem.updated", "--work-item", "5", "--from-state", "New"], /--from-status goes with --status/],
    [["simulate", "vsts", "workitem.updated", "--work-item", "5", "--assignee", "a@b.c", "--unassign"], /cannot be used with/],
    [["simulate", "vsts", "workitem.deleted", "--work-item", "5"], /no vsts template for workitem.deleted \(one of: git.pullrequest.created, git.push, workitem.commented, workitem.created, workitem.updated\)/],
    [["simulate", "vsts", "../../package", "--work-item", "5"], /no vsts template/],
    [["simulate", "vsts", "workitem.updated", "--work-item", "5", "--assign", "a <a@b.c>", "--unassign"], /cannot be used with/],
    [["simulate", "jira", "issue_updated"], /required option '--issue <key>'/],
    [["simulate", "jira", "issue_updated", "--issue", "prja 37"], /--issue prja 37 is not an issue key/],
    [["simulate", "jira", "issue_updated", "--issue", "PRJA-1", "--print", "--send", "http://127.0.0.1:1"], /cannot be used with/],
    [["simulate", "jira", "issue_updated", "--issue", "PRJA-1", "--send", "http://127.0.0.1:1", "--dry-run"], /cannot be used with/],
    [["simulate", "jira", "issue_created", "--issue", "PRJA-1", "--status", "3", "--from-status", "1"], /--from-status goes with --status on issue_updated/],
    [["simulate", "jira", "issue_updated", "--issue", "PRJA-1", "--integration", "jira-9"], /no jira integration jira-9/],
    [["simulate", "vsts", "workitem.updated", "--work-item", "5", "--integration", JIRA_ID], /no vsts integration jira-1/],
  ])("refuses %j with exit 2", async (argv, message) => {
    const w = await world();
    const r = await w.run(argv);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });

  it("asks which integration when the store has none, except for --print", async () => {
    const w = await world();
    const empty = `${w.dir}/empty.db`;
    await run(["init", "--db", empty]);
    const r = await run(["simulate", "jira", "issue_updated", "--issue", "PRJA-1", "--db", empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("hooksync: which jira integration? use --integration (the store holds none or several)\n");
    const printed = await run(["simulate", "vsts", "workitem.updated", "--work-item", "1", "--print", "--integration", "my-collection", "--db", empty]);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout).resourceContainers.collection.id).toBe("my-collection");
  });
});

describe("hooksync simulate --send", () => {
  it("changes the store through a running receiver exactly as simulate alone does", async () => {
    const direct = await world();
    const served = await world();
    const r = await receiver(served.db);
    const runs = [
      VSTS_ASSIGN,
      JIRA_ASSIGN,
      ["simulate", "jira", "issue_updated", "--issue", "PRJA-37", "--unassign"],
      ["simulate", "vsts", "workitem.updated", "--work-item", "5", "--state", "Active"],
    ];
    for (const argv of runs) {
      expect((await direct.run(argv)).code).toBe(0);
      const sent = await served.run([...argv, "--send", r.url, "--json"]);
      expect(sent.code).toBe(0);
      expect(JSON.parse(sent.stdout)).toMatchObject({ status: 200, answer: { outcome: "applied", reason: null } });
    }
    expect(await served.issues()).toEqual(await direct.issues());
    const strip = (rows: Awaited<ReturnType<typeof direct.activity>>) => rows.map(({ source: _s, delivery: _d, at: _at, ...a }) => a);
    expect(strip(await served.activity())).toEqual(strip(await direct.activity()));
    expect((await served.activity()).every((a) => a.source === "serve" && a.delivery !== null)).toBe(true);
    expect((await r.store.deliveries.list()).map((d) => d.outcome)).toEqual(["applied", "applied", "applied", "applied"]);
  });

  it("prints the receiver's answer and fails on a non-2xx answer", async () => {
    const w = await world();
    const r = await receiver(w.db);
    const ok = await w.run([...VSTS_ASSIGN, "--send", `${r.url}/`]);
    expect(ok.stdout).toMatch(new RegExp(`^200 ${r.url}/hooks/vsts applied \\(delivery \\d+\\)\\n$`));
    const refused = await w.run(["simulate", "vsts", "workitem.updated", "--work-item", "5", "--send", r.url, "--set", "resourceContainers.collection.id=nope"]);
    expect(refused.code).toBe(1);
    // An unknown collection id is refused as a wrong secret (the receiver does not tell which ids exist).
    expect(refused.stdout).toContain("401 ");
    expect(refused.stdout).toContain("rejected: wrong shared-secret header");
    expect(refused.stderr).toBe("hooksync: the receiver answered 401 (its answer is above)\n");
    const jira = await w.run([...JIRA_ASSIGN, "--send", r.url]);
    expect(jira.stdout).toContain(`${r.url}/hooks/jira/<redacted> applied`);
  });

  it("says so when nothing listens, exit 1", async () => {
    const w = await world();
    const port = await freePort();
    const r = await w.run([...VSTS_ASSIGN, "--send", `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`hooksync: cannot reach http://127.0.0.1:${port}/hooks/vsts: ECONNREFUSED (is 'hooksync serve' running there?)\n`);
    expect((await w.run([...VSTS_ASSIGN, "--send", "ftp://x"])).code).toBe(2);
  });
});

describe("hooksync simulate (built CLI)", () => {
  it("prints a payload that replay then applies", async () => {
    const w = await world();
    const printed = await runBin(["simulate", "jira", "issue_updated", "--issue", "PRJA-37", "--assignee", "jane.doe@example.com", "--print", "--db", w.db]);
    expect(printed.code).toBe(0);
    const replayed = await runBin(["replay", "-", "--json", "--db", w.db], { stdin: printed.stdout });
    expect(replayed.code).toBe(0);
    expect(ndjson(replayed.stdout)[0]).toMatchObject({ provider: "jira", integration: JIRA_ID, outcome: "applied" });
  });
});
