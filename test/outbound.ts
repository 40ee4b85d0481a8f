import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { CredentialStore } from "../src/config/credentials.js";
import { type AzureDevOpsFake, startAzureDevOps } from "./fakes/azure-devops.js";
import { type WorkItemsState, installWorkItems } from "./fakes/azure-devops-outbound.js";
import { type DiscordFake, startDiscord } from "./fakes/discord.js";
import { type JiraFake, TEST_KEY_PEM, startJira } from "./fakes/jira.js";
import { type JiraIssuesState, installJiraIssues } from "./fakes/jira-outbound.js";
import { run, tempDir, type TestDepsOptions, type TestRun } from "./helpers.js";
import { JIRA_ID, NOW, VSTS_ID } from "./trackers.js";

export { JIRA_ID, VSTS_ID };
/** The projects the webhook fixtures name. */
export const VSTS_PROJECT = { id: "be9b3917-87e6-42a4-a549-2bc06a7a878f", name: "Fabrikam-Fiber-Git" };
export const JIRA_PROJECT = "10002";
/** Jira's workflow, with the status ids of the webhook fixtures. */
export const JIRA_STATUSES = { "10000": "To Do", "3": "In Progress", "10001": "Done" };

export interface OutboundWorld {
  azure: AzureDevOpsFake;
  workItems: WorkItemsState;
  jira: JiraFake;
  jiraIssues: JiraIssuesState;
  discord: DiscordFake;
  dir: string;
  db: string;
  /** The Azure DevOps token and the test's own config directory (with Jira credentials for JIRA_ID). */
  env: Record<string, string>;
  /** `hooksync <argv> --db <db>` with env. */
  run(argv: string[], o?: TestDepsOptions): Promise<TestRun>;
  /** `hooksync import -` of a partial dataset. */
  importData(data: Record<string, unknown>): Promise<void>;
  /** What a request to a fake sent: method, path and body. */
  calls(fake: { requests: { method: string; url: URL; body: string }[] }): string[];
}

/**
 * Organization acme pushes both fields to both trackers; globex takes inbound sync only. BACKEND-1
 * (acme) links work item 5 and PRJA-37; OPS-1 (globex) links work item 7 and PRJA-38. Jane is a
 * verified member of both projects, known to both trackers by her email.
 */
export function outboundWorld(): OutboundWorld {
  const w = {} as OutboundWorld;
  let cleanup = () => {};
  beforeAll(async () => {
    w.azure = await startAzureDevOps();
    w.workItems = installWorkItems(w.azure, { items: [], identities: {}, states: ["New", "Active", "Resolved", "Closed"] });
    w.jira = await startJira({ now: () => NOW });
    w.jiraIssues = installJiraIssues(w.jira, { issues: [], statuses: JIRA_STATUSES });
    w.jira.state.users.push({ name: "bsmith", key: "JIRAUSER10600", displayName: "Bob Smith", emailAddress: "bob.smith@example.com" });
    w.discord = await startDiscord();
  });
  afterAll(async () => {
    await Promise.all([w.azure.close(), w.jira.close(), w.discord.close()]);
  });
  beforeEach(async () => {
    for (const f of [w.azure, w.jira, w.discord]) f.reset();
    w.workItems.items.clear();
    for (const id of [5, 7]) w.workItems.items.set(id, { id, rev: 1, project: VSTS_PROJECT, fields: { "System.State": "New", "System.Title": `Work item ${id}` } });
    w.workItems.retryAfterOnSuccess = null;
    w.workItems.identities.clear();
    w.workItems.identities.set("jane.doe@example.com", "Jane Doe");
    w.workItems.identities.set("bob.smith@example.com", "Bob Smith");
    w.jiraIssues.issues.clear();
    for (const key of ["PRJA-37", "PRJA-38"]) w.jiraIssues.issues.set(key, { key, projectId: JIRA_PROJECT, status: "10000", assignee: null });
    w.jiraIssues.unreachable.clear();
    w.jiraIssues.unassignable.clear();
    w.discord.state.webhooks.clear();
    w.discord.state.bucket = null;

    const d = tempDir();
    cleanup = d.cleanup;
    w.dir = d.path;
    w.db = join(d.path, "hooksync.db");
    w.env = { AZURE_DEVOPS_EXT_PAT: w.azure.state.pat, HOOKSYNC_CONFIG_DIR: join(d.path, "config") };
    expect((await w.run(["init"])).code).toBe(0);
    await w.importData(dataset(w.azure.url, w.jira.url));
    (await CredentialStore.open(w.env)).saveJira({
      baseUrl: w.jira.url,
      consumerKey: "hooksync",
      privateKey: TEST_KEY_PEM,
      accessToken: w.jira.grant("hooksync", "admin"),
      accessTokenSecret: "ignored-by-rsa-sha1",
      integration: JIRA_ID,
      savedAt: new Date(NOW).toISOString(),
    });
  });
  afterEach(() => cleanup());

  w.run = (argv, o = {}) => run([...argv, "--db", w.db], { ...o, env: { ...w.env, ...o.env } });
  w.importData = async (data) => {
    const file = join(w.dir, `import-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(data));
    const r = await w.run(["import", file]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  };
  w.calls = (fake) => fake.requests.map((r) => `${r.method} ${r.url.pathname}${r.body ? ` ${r.body}` : ""}`);
  return w;
}

function dataset(vstsUrl: string, jiraUrl: string) {
  const both = { inboundAssignee: true, inboundStatus: true };
  return {
    organizations: [
      { slug: "acme", name: "Acme" },
      { slug: "globex", name: "Globex" },
    ],
    projects: [
      { slug: "backend", organization: "acme" },
      { slug: "ops", organization: "globex" },
    ],
    users: [
      { email: "jane.doe@example.com", name: "Jane Doe", verified: true },
      { email: "bob.smith@example.com", name: "Bob Smith", verified: true },
      { email: "mallory@example.com", name: "Mallory", verified: false },
    ],
    members: [
      { user: "jane.doe@example.com", organization: "acme", projects: ["backend"] },
      { user: "jane.doe@example.com", organization: "globex", projects: ["ops"] },
      { user: "bob.smith@example.com", organization: "acme", projects: ["backend"] },
      { user: "mallory@example.com", organization: "acme", projects: ["backend"] },
    ],
    integrations: [
      { provider: "vsts", externalId: VSTS_ID, name: "fabrikam", baseUrl: vstsUrl, organizations: ["acme", "globex"], webhookSecret: "vsts-secret-4f1c9a7e2b" },
      { provider: "jira", externalId: JIRA_ID, name: "Acme Jira", baseUrl: jiraUrl, organizations: ["acme", "globex"], webhookSecret: "jira-secret-8d2e5b1f0c" },
    ],
    sync: [
      { organization: "acme", integration: VSTS_ID, ...both, outboundAssignee: true, outboundStatus: true },
      { organization: "acme", integration: JIRA_ID, ...both, outboundAssignee: true, outboundStatus: true },
      { organization: "globex", integration: VSTS_ID, ...both },
      { organization: "globex", integration: JIRA_ID, ...both },
    ],
    statusMappings: [
      { integration: VSTS_ID, externalProject: VSTS_PROJECT.id, resolvedStatus: ["Closed", "Resolved"], unresolvedStatus: ["Active", "New"] },
      { integration: JIRA_ID, externalProject: JIRA_PROJECT, resolvedStatus: "10001", unresolvedStatus: ["10000", "3"] },
    ],
    issues: [
      { id: "BACKEND-1", project: "backend", title: "TypeError in checkout", status: "unresolved", assignee: null },
      { id: "OPS-1", project: "ops", title: "Disk full on db-2", status: "unresolved", assignee: null },
    ],
    links: [
      { issue: "BACKEND-1", integration: VSTS_ID, externalKey: "5" },
      { issue: "BACKEND-1", integration: JIRA_ID, externalKey: "PRJA-37" },
      { issue: "OPS-1", integration: VSTS_ID, externalKey: "7" },
      { issue: "OPS-1", integration: JIRA_ID, externalKey: "PRJA-38" },
    ],
  };
}
