import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/store.js";
import { type AzureDevOpsFake, startAzureDevOps } from "../fakes/azure-devops.js";
import { run, tempDir } from "../helpers.js";
import { JIRA_ID, VSTS_ID, jiraWorld, trackerStore } from "../world.js";

const PAT = "test-pat-0123456789";
const PROJECT = "be9b3917-87e6-42a4-a549-2bc06a7a878f";

async function mappings(db: string, externalId: string) {
  const store = await openStore(db);
  try {
    return await store.statusMaps.list((await store.integrations.byExternalId(externalId))!.id);
  } finally {
    await store.close();
  }
}

describe("status-map fetch from Azure DevOps", () => {
  let az: AzureDevOpsFake;
  let dir: ReturnType<typeof tempDir>;
  let db: string;
  beforeAll(async () => {
    az = await startAzureDevOps({ pat: PAT });
  });
  afterAll(() => az.close());
  beforeEach(async () => {
    az.reset();
    az.state.projects = [
      {
        id: PROJECT,
        name: "Fabrikam",
        types: [
          { name: "Bug", states: [{ name: "New", category: "Proposed" }, { name: "Active", category: "InProgress" }, { name: "Resolved", category: "Resolved" }, { name: "Closed", category: "Completed" }] },
          { name: "Task", states: [{ name: "To Do", category: "Proposed" }, { name: "Done", category: "Completed" }, { name: "Removed", category: "Removed" }] },
        ],
      },
    ];
    dir = tempDir();
    db = await trackerStore(dir.path, { vsts: az.url });
  });
  afterEach(() => dir.cleanup());

  const fetch = (...extra: string[]) => run(["status-map", "fetch", "--integration", VSTS_ID, "--db", db, ...extra], { env: { AZURE_DEVOPS_EXT_PAT: PAT } });
  const expected = { externalProject: PROJECT, resolvedStatus: ["Closed", "Done", "Removed"], unresolvedStatus: ["Active", "New", "Resolved", "To Do"] };

  it("writes Completed and Removed states as resolved, the rest unresolved; a second run keeps them", async () => {
    const first = await fetch("--json");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual([{ integration: VSTS_ID, ...expected, action: "create" }]);
    expect(await mappings(db, VSTS_ID)).toEqual([{ externalProject: PROJECT, resolved: expected.resolvedStatus, unresolved: expected.unresolvedStatus, fetched: true }]);
    const second = await fetch("--json");
    expect(JSON.parse(second.stdout)).toEqual([{ integration: VSTS_ID, ...expected, action: "keep" }]);
  });

  it("--dry-run shows what it would write and writes nothing", async () => {
    const r = await fetch("--dry-run");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`would create ${PROJECT}  resolved: Closed, Done, Removed; unresolved: Active, New, Resolved, To Do\n`);
    expect(await mappings(db, VSTS_ID)).toEqual([]);
  });

  it("leaves a mapping the user wrote alone unless --replace; one it fetched it updates", async () => {
    const file = join(dir.path, "mapping.json");
    writeFileSync(file, JSON.stringify({ statusMappings: [{ integration: VSTS_ID, externalProject: PROJECT, resolvedStatus: "Closed", unresolvedStatus: "Active" }] }));
    expect((await run(["import", file, "--db", db])).code).toBe(0);
    const kept = JSON.parse((await fetch("--json")).stdout);
    expect(kept).toEqual([expect.objectContaining({ action: "keep", resolvedStatus: ["Closed"], unresolvedStatus: ["Active"], note: expect.stringContaining("--replace") })]);
    expect((await mappings(db, VSTS_ID))[0]).toMatchObject({ resolved: ["Closed"], fetched: false });
    expect(JSON.parse((await fetch("--json", "--replace")).stdout)).toEqual([{ integration: VSTS_ID, ...expected, action: "update" }]);
    az.state.projects[0]!.types[0]!.states.push({ name: "Won't Fix", category: "Removed" });
    expect(JSON.parse((await fetch("--json")).stdout)[0]).toMatchObject({ action: "update", resolvedStatus: ["Closed", "Done", "Removed", "Won't Fix"] });
  });

  it("takes an Entra ID token too", async () => {
    az.state.bearerTokens = new Set(["entra"]);
    const r = await run(["status-map", "fetch", "--integration", VSTS_ID, "--project", PROJECT, "--db", db], { env: { AZURE_DEVOPS_TOKEN: "entra" } });
    expect(r.code).toBe(0);
    expect(az.requests.every((q) => q.headers.authorization === "Bearer entra")).toBe(true);
  });
});

describe("status-map fetch from Jira", () => {
  const w = jiraWorld();

  it("writes statuses of category done as resolved, by id", async () => {
    await w.storeCredentials("admin");
    w.jira.state.projects = [
      {
        id: "10002",
        key: "PRJA",
        issueTypes: [
          { name: "Bug", statuses: [{ id: "1", name: "Open", category: "new" }, { id: "3", name: "In Progress", category: "indeterminate" }, { id: "10001", name: "Done", category: "done" }] },
          { name: "Task", statuses: [{ id: "1", name: "Open", category: "new" }, { id: "6", name: "Closed", category: "done" }] },
        ],
      },
    ];
    const r = await run(["status-map", "fetch", "--integration", JIRA_ID, "--db", w.db, "--json"], { env: w.env });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual([{ integration: JIRA_ID, externalProject: "10002", resolvedStatus: ["6", "10001"], unresolvedStatus: ["1", "3"], action: "create" }]);
    expect(JSON.parse((await run(["status-map", "fetch", "--integration", JIRA_ID, "--db", w.db, "--json"], { env: w.env })).stdout)[0].action).toBe("keep");
  });
});
