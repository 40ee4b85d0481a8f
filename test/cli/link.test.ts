import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import type { IssueView } from "../../src/store/views.js";
import { parseOAuthHeader } from "../fakes/jira.js";
import { ndjson, run } from "../helpers.js";
import { JIRA_ID, PAT, VSTS_ID, expectNoSecrets, issueFakes, jiraWorld, loadFixture, trackerStore } from "../world.js";

const env = { AZURE_DEVOPS_EXT_PAT: PAT };

const w = jiraWorld();
const f = issueFakes(w, PAT);

beforeEach(async () => {
  f.items.items.clear();
  f.items.put({ id: 5, title: "TypeError in checkout", state: "Active", assignedTo: null, changedDate: "2026-01-01T10:00:00Z" });
  f.issues.issues.clear();
  f.issues.put(
    { key: "PRJA-37", summary: "TypeError in checkout", status: "3", assignee: "jdoe", updated: "2026-01-01T10:00:00.000+0000" },
    { key: "PRJA-38", summary: "Checkout crash", status: "10000", assignee: null, updated: "2026-01-01T11:00:00.000+0000" },
  );
  // The jira world's store again, with the Azure DevOps integration pointing at this fake too.
  await trackerStore(w.dir, { vsts: f.az.url, jira: w.jira.url });
  const more = join(w.dir, "more.json");
  writeFileSync(
    more,
    JSON.stringify({
      issues: [{ id: "BACKEND-2", project: "backend", title: "Checkout crash", status: "unresolved", assignee: null }],
      sync: [{ organization: "acme", integration: VSTS_ID, inboundAssignee: true }],
    }),
  );
  expect((await run(["import", more, "--db", w.db])).code).toBe(0);
  await w.storeCredentials("admin");
  f.az.reset();
  w.jira.reset();
});

const hooksync = (...argv: string[]) => run([...argv, "--db", w.db], { env: { ...env, ...w.env } });

async function linksOf(issue: string): Promise<IssueView["links"]> {
  const r = await hooksync("issue", "list", "--json");
  return (JSON.parse(r.stdout) as IssueView[]).find((i) => i.id === issue)!.links;
}

describe("link vsts", () => {
  it("checks the work item exists, records its id without leading zeros, and issue list shows the link", async () => {
    const r = await hooksync("link", "BACKEND-1", "--integration", VSTS_ID, "0005", "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      issue: "BACKEND-1",
      integration: VSTS_ID,
      externalKey: "5",
      action: "linked",
      external: { key: "5", title: "TypeError in checkout", status: "Active", assignee: null, url: `${f.az.url}/_workitems/edit/5` },
    });
    expect(f.az.requests.map((q) => `${q.method} ${q.url.pathname} ${q.url.searchParams.get("api-version")}`)).toEqual(["GET /fabrikam/_apis/wit/workitems/5 7.1"]);
    expect(await linksOf("BACKEND-1")).toEqual([
      { integration: VSTS_ID, externalKey: "5" },
      { integration: JIRA_ID, externalKey: "PRJA-37" },
    ]);
    expectNoSecrets(r, [PAT]);
  });

  it("is idempotent: linking again says so, asks Azure DevOps nothing and adds nothing", async () => {
    await hooksync("link", "BACKEND-1", "--integration", VSTS_ID, "5");
    f.az.reset();
    const r = await hooksync("link", "BACKEND-1", "--integration", VSTS_ID, "5");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("BACKEND-1 is already linked to 5 (fabrikam)\n");
    expect(f.az.requests).toHaveLength(0);
    expect((await linksOf("BACKEND-1")).filter((l) => l.integration === VSTS_ID)).toEqual([{ integration: VSTS_ID, externalKey: "5" }]);
  });

  it("refuses a work item Azure DevOps does not have (exit 1) and records nothing", async () => {
    const r = await hooksync("link", "BACKEND-1", "--integration", VSTS_ID, "99");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "hooksync: no work item 99 in fabrikam (check the work item id; the tracker answers the same when the token's user may not see it; --no-verify links it anyway)\n",
    );
    expect(await linksOf("BACKEND-1")).toEqual([{ integration: JIRA_ID, externalKey: "PRJA-37" }]);
  });

  it("maps a refused token (401) to exit 4 and records nothing", async () => {
    const r = await run(["link", "BACKEND-1", "--integration", VSTS_ID, "5", "--db", w.db], { env: { AZURE_DEVOPS_EXT_PAT: "wrong-token-xyz" } });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("hooksync: the token was refused (HTTP 401 on read work item 5)");
    expect(await linksOf("BACKEND-1")).toEqual([{ integration: JIRA_ID, externalKey: "PRJA-37" }]);
    expectNoSecrets(r, ["wrong-token-xyz"]);
  });

  it("--no-verify links offline, without a token and without a request", async () => {
    const r = await run(["link", "BACKEND-1", "--integration", VSTS_ID, "12345", "--no-verify", "--db", w.db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("linked BACKEND-1 to 12345 (fabrikam), not checked with the tracker\n");
    expect(f.az.requests).toHaveLength(0);
    expect(await linksOf("BACKEND-1")).toContainEqual({ integration: VSTS_ID, externalKey: "12345" });
  });

  it("warns when the integration does not belong to the issue's organization (such a link never syncs)", async () => {
    const other = join(w.dir, "other.json");
    writeFileSync(
      other,
      JSON.stringify({
        organizations: [{ slug: "globex", name: "Globex" }],
        projects: [{ slug: "ops", organization: "globex" }],
        issues: [{ id: "OPS-1", project: "ops", title: "Disk full" }],
      }),
    );
    expect((await run(["import", other, "--db", w.db])).code).toBe(0);
    const r = await run(["link", "OPS-1", "--integration", VSTS_ID, "5", "--no-verify", "--db", w.db]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `warning: integration ${VSTS_ID} does not belong to organization globex, so its webhooks will not sync OPS-1 (add "globex" to the integration's organizations and run 'hooksync import')\n`,
    );
    const quiet = await run(["link", "BACKEND-1", "--integration", VSTS_ID, "12345", "--no-verify", "--db", w.db]);
    expect(quiet.stderr).toBe("");
  });

  it("unlinks, and says so when there was no such link (both exit 0)", async () => {
    await hooksync("link", "BACKEND-1", "--integration", VSTS_ID, "5");
    const first = await hooksync("unlink", "BACKEND-1", "--integration", VSTS_ID, "05", "--json");
    expect(JSON.parse(first.stdout)).toEqual({ issue: "BACKEND-1", integration: VSTS_ID, externalKey: "5", action: "unlinked", external: null });
    const again = await hooksync("unlink", "BACKEND-1", "--integration", VSTS_ID, "5");
    expect(again.code).toBe(0);
    expect(again.stdout).toBe("BACKEND-1 was not linked to 5 (fabrikam)\n");
    expect(await linksOf("BACKEND-1")).toEqual([{ integration: JIRA_ID, externalKey: "PRJA-37" }]);
    expect(f.az.requests.filter((q) => q.url.pathname.endsWith("/workitems/5"))).toHaveLength(1);
  });

  it("lets one work item link to several local issues: only the same pair counts as a duplicate", async () => {
    expect((await hooksync("link", "BACKEND-1", "--integration", VSTS_ID, "5")).code).toBe(0);
    const r = await hooksync("link", "BACKEND-2", "--integration", VSTS_ID, "5", "--json");
    expect(JSON.parse(r.stdout).action).toBe("linked");
    expect(await linksOf("BACKEND-2")).toEqual([{ integration: VSTS_ID, externalKey: "5" }]);
    expect(await linksOf("BACKEND-1")).toContainEqual({ integration: VSTS_ID, externalKey: "5" });
  });
});

describe("link jira", () => {
  it("takes the integration from the key's shape, checks the issue with a signed request, records the key upper-cased", async () => {
    const r = await hooksync("link", "BACKEND-2", "prja-38", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      issue: "BACKEND-2",
      integration: JIRA_ID,
      externalKey: "PRJA-38",
      action: "linked",
      external: { key: "PRJA-38", title: "Checkout crash", status: "To Do", assignee: null, url: `${w.jira.url}/browse/PRJA-38` },
    });
    const [get] = w.jira.requests;
    expect(`${get!.method} ${get!.url.pathname}`).toBe("GET /rest/api/2/issue/PRJA-38");
    expect(parseOAuthHeader(get!.headers.authorization)?.get("oauth_signature_method")).toBe("RSA-SHA1");
    expect(await linksOf("BACKEND-2")).toEqual([{ integration: JIRA_ID, externalKey: "PRJA-38" }]);
  });

  it("refuses an issue Jira does not have (exit 1)", async () => {
    const r = await hooksync("link", "BACKEND-2", "--integration", JIRA_ID, "PRJA-404");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^hooksync: no issue PRJA-404 in Acme Jira \(check the Jira issue key;/);
    expect(await linksOf("BACKEND-2")).toEqual([]);
  });
});

describe("link and unlink usage", () => {
  it.each([
    [["link", "NOPE-1", "--integration", VSTS_ID, "5"], "no issue NOPE-1 (see 'hooksync issue list')"],
    [["unlink", "NOPE-1", "PRJA-37"], "no issue NOPE-1 (see 'hooksync issue list')"],
    [["link", "BACKEND-1", "--integration", "nope", "5"], "no integration nope (check --integration, or add it with 'hooksync import')"],
    [["link", "BACKEND-1", "--integration", VSTS_ID, "PRJA-1"], `PRJA-1 is not a work item id (integration ${VSTS_ID} is vsts: give a key like 123)`],
    [["link", "BACKEND-1", "--integration", JIRA_ID, "42"], `42 is not a Jira issue key (integration ${JIRA_ID} is jira: give a key like PROJ-123)`],
    [["link", "BACKEND-1", "checkout"], "which integration? use --integration (nothing says which tracker it is)"],
  ])("%j exits 2: %s", async (argv, message) => {
    const r = await hooksync(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`hooksync: ${message}\n`);
    expect(f.az.requests).toHaveLength(0);
    expect(w.jira.requests).toHaveLength(0);
  });
});

describe("after link, a replayed payload for that external issue changes the local issue", () => {
  const replayJson = async (payload: unknown) => {
    const r = await run(["replay", "-", "--json", "--db", w.db], { stdin: JSON.stringify(payload) });
    return ndjson(r.stdout)[0]!;
  };

  it("jira: ignored while unlinked, applied once linked", async () => {
    const payload = loadFixture("jira-issue-updated-assignee-from-unassigned.json");
    expect((await hooksync("unlink", "BACKEND-1", "PRJA-37")).code).toBe(0);
    expect(await replayJson(payload)).toMatchObject({ outcome: "ignored", changes: [] });

    expect((await hooksync("link", "BACKEND-1", "prja-37")).code).toBe(0);
    expect(await replayJson(payload)).toMatchObject({
      outcome: "applied",
      changes: [{ issue: "BACKEND-1", field: "assignee", from: null, to: "jane.doe@example.com" }],
    });
    const list = JSON.parse((await hooksync("issue", "list", "--json")).stdout) as IssueView[];
    expect(list.find((i) => i.id === "BACKEND-1")!.assignee).toBe("jane.doe@example.com");
  });

  it("vsts: a work item linked as 0005 matches the payload's work item 5", async () => {
    const payload = loadFixture("vsts-workitem-updated.json");
    payload.resource.fields["System.AssignedTo"].newValue = "Jane Doe <jane.doe@example.com>";
    expect(await replayJson(payload)).toMatchObject({ outcome: "ignored", changes: [] });

    expect((await hooksync("link", "BACKEND-2", "--integration", VSTS_ID, "0005")).code).toBe(0);
    expect(await replayJson(payload)).toMatchObject({
      outcome: "applied",
      changes: [{ issue: "BACKEND-2", field: "assignee", from: null, to: "jane.doe@example.com" }],
    });
  });
});
