import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Context } from "../../src/cli/context.js";
import { runServe } from "../../src/cli/serve.js";
import { openStore } from "../../src/store/store.js";
import { fixture, testDeps } from "../helpers.js";
import { JIRA_ID, VSTS_PROJECT, VSTS_SECRET, outboundWorld } from "../world.js";

const w = outboundWorld();


/** Azure DevOps assigning work item 5 (BACKEND-1): serve queues the push to Jira (PRJA-37). */
const vstsAssign = (email: string) => {
  const p = JSON.parse(readFileSync(fixture("vsts-workitem-updated.json"), "utf8"));
  p.resource.workItemId = 5;
  p.resource.fields = { "System.AssignedTo": { newValue: `Someone <${email}>` } };
  p.resourceContainers.project.id = VSTS_PROJECT.id;
  return JSON.stringify(p);
};

/** `hooksync serve` in-process on the test's env; stop() ends it as SIGTERM would. */
async function serve(args: { outbound?: boolean }, env: Record<string, string | undefined> = w.env) {
  const { deps, output } = testDeps({ env });
  const ctx = new Context(deps, { db: w.db, verbose: true });
  const stop = new AbortController();
  const running = runServe(ctx, { host: "127.0.0.1", port: 0, bodyLimit: 1 << 20, requestTimeout: 5000, ...args }, stop.signal);
  await expect.poll(() => /listening on (\S+)/.exec(output().stderr)?.[1]).toBeTruthy();
  const url = /listening on (\S+)/.exec(output().stderr)![1]!;
  const post = async (body: string) => {
    const res = await fetch(`${url}/hooks/vsts`, { method: "POST", headers: { "content-type": "application/json", "shared-secret": VSTS_SECRET }, body });
    await res.text();
    return res.status;
  };
  return { url, post, output, stop: async () => (stop.abort(), running) };
}

const outbox = async () => {
  const store = await openStore(w.db);
  try {
    return await store.outbox.list();
  } finally {
    await store.close();
  }
};

describe("serve sends the outbox itself (issue 12 item 6)", () => {
  it("a push queued by a delivery reaches the tracker with no command run", async () => {
    const s = await serve({});
    expect(await s.post(vstsAssign("jane.doe@example.com"))).toBe(200);
    await expect.poll(() => w.jiraIssues.issues.get("PRJA-37")!.assignee, { timeout: 10_000 }).toBe("jdoe");
    await s.stop();
    expect((await outbox()).map((r) => [r.integration, r.state])).toEqual([[JIRA_ID, "done"]]);
    expect(s.output().stderr).toContain(`pushed BACKEND-1 assignee to ${JIRA_ID} PRJA-37: PRJA-37 assigned to jdoe`);
  });

  it("sends what was queued before it started", async () => {
    expect((await w.run(["replay", "-"], { stdin: vstsAssign("jane.doe@example.com") })).code).toBe(0);
    const s = await serve({});
    await expect.poll(() => w.jiraIssues.issues.get("PRJA-37")!.assignee, { timeout: 10_000 }).toBe("jdoe");
    await s.stop();
  });

  it("--no-outbound leaves the outbox to 'hooksync outbound send'", async () => {
    expect((await w.run(["replay", "-"], { stdin: vstsAssign("bob.smith@example.com") })).code).toBe(0);
    const s = await serve({ outbound: false });
    expect(await s.post(vstsAssign("jane.doe@example.com"))).toBe(200);
    await s.stop();
    expect(w.jira.requests).toEqual([]);
    expect((await outbox()).map((r) => r.state)).toEqual(["pending"]);
    expect((await w.run(["outbound", "send"])).code).toBe(0);
    expect(w.jiraIssues.issues.get("PRJA-37")!.assignee).toBe("jdoe");
  });

  it("a missing credential fails the rows with what to do and backs off; serve goes on", async () => {
    // A change Jira sent, queued for Azure DevOps; serve has no Azure DevOps token.
    const store = await openStore(w.db);
    const jira = (await store.integrations.byExternalId(JIRA_ID))!;
    await store.inTransaction(async (tx) => tx.outbox.enqueue([{ issue: "BACKEND-1", issueId: (await tx.links.issueId("BACKEND-1"))!, field: "assignee", from: null, to: "jane.doe@example.com" }], { integrationId: jira.id, via: "jira", at: "2026-01-02T03:04:05.000Z" }));
    await store.close();
    const s = await serve({}, { ...w.env, AZURE_DEVOPS_EXT_PAT: undefined });
    await expect.poll(async () => (await outbox()).find((r) => r.externalKey === "5")?.attempts, { timeout: 10_000 }).toBe(1);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    const row = (await outbox()).find((r) => r.externalKey === "5")!;
    expect(row).toMatchObject({ state: "pending", lastError: expect.stringContaining("no Azure DevOps token: serve reads it from AZURE_DEVOPS_EXT_PAT") });
    expect(row.nextAttemptAt - Date.parse("2026-01-02T03:04:05.000Z")).toBeGreaterThanOrEqual(27_000);
    await s.stop();
    expect(s.output().stderr).toContain("hooksync: BACKEND-1 assignee to c12d0eb8 5 failed: no Azure DevOps token");
  });
});
