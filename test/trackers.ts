import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { CredentialStore } from "../src/config/credentials.js";
import { type AzureDevOpsFake, startAzureDevOps } from "./fakes/azure-devops.js";
import { type WorkItemsState, installWorkItems } from "./fakes/azure-devops-workitems.js";
import { type IssuesState, installIssues } from "./fakes/jira-issues.js";
import { type JiraFake, TEST_KEY_PEM, startJira } from "./fakes/jira.js";
import { run, tempDir, type TestDepsOptions, type TestRun } from "./helpers.js";

export const VSTS_ID = "c12d0eb8-e382-443b-9f9c-c52cba5014c2";
export const VSTS_SECRET = "vsts-secret-4f1c9a7e2b";
export const JIRA_ID = "jira-acme";
export const JIRA_SECRET = "jira-secret-8d2e5b1f0c";

/** A store in dir with one VSTS and one Jira integration whose base URLs are the fakes'. */
export async function trackerStore(dir: string, urls: { vsts?: string; jira?: string }): Promise<string> {
  const db = join(dir, "hooksync.db");
  const file = join(dir, "import.json");
  writeFileSync(
    file,
    JSON.stringify({
      organizations: [{ slug: "acme", name: "Acme" }],
      projects: [{ slug: "backend", organization: "acme" }],
      users: [{ email: "jane.doe@example.com", name: "Jane Doe", verified: true }],
      members: [{ user: "jane.doe@example.com", organization: "acme", projects: ["backend"] }],
      integrations: [
        { provider: "vsts", externalId: VSTS_ID, name: "fabrikam", baseUrl: urls.vsts ?? "https://dev.azure.com/fabrikam", organizations: ["acme"], webhookSecret: VSTS_SECRET },
        { provider: "jira", externalId: JIRA_ID, name: "Acme Jira", baseUrl: urls.jira ?? "http://jira.example.test:8080", organizations: ["acme"], webhookSecret: JIRA_SECRET },
      ],
      sync: [{ organization: "acme", integration: JIRA_ID, inboundAssignee: true, inboundStatus: true }],
      issues: [{ id: "BACKEND-1", project: "backend", title: "TypeError in checkout", status: "unresolved", assignee: null }],
      links: [{ issue: "BACKEND-1", integration: JIRA_ID, externalKey: "PRJA-37" }],
    }),
  );
  // Only init creates a store (cli.md); import then fills it.
  expect((await run(["init", "--db", db])).code).toBe(0);
  const r = await run(["import", file, "--db", db]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return db;
}

/** Fails the test when any of the secrets shows up on stdout or stderr. */
export function expectNoSecrets(r: Pick<TestRun, "stdout" | "stderr">, secrets: string[]): void {
  for (const s of secrets) {
    expect(r.stdout, `stdout leaks ${s}`).not.toContain(s);
    expect(r.stderr, `stderr leaks ${s}`).not.toContain(s);
  }
}

export type { TestDepsOptions };

/** testDeps' fixed clock, which the fake Jira shares so OAuth timestamps fall inside its window. */
export const NOW = Date.parse("2026-01-02T03:04:05.000Z");

export interface JiraWorld {
  jira: JiraFake;
  dir: string;
  db: string;
  /** HOOKSYNC_CONFIG_DIR in the test's own directory. */
  env: Record<string, string>;
  /** Credentials for the Jira integration as 'hooksync oauth jira' leaves them; returns the access token. */
  storeCredentials(user?: string): Promise<string>;
}

/**
 * One fake Jira for the file and, for each test, a fresh directory with a store of the two
 * integrations (Jira's base URL the fake's) and a config directory; the fake's state reset.
 */
export function jiraWorld(): JiraWorld {
  const w = { env: {} } as JiraWorld;
  let cleanup = () => {};
  beforeAll(async () => {
    w.jira = await startJira({ now: () => NOW });
  });
  afterAll(() => w.jira.close());
  beforeEach(async () => {
    const { jira } = w;
    jira.reset();
    Object.assign(jira.state, { version: "9.12.0", now: () => NOW, selfUrl: jira.url, nextWebhookId: 1 });
    jira.state.webhooks.clear();
    const d = tempDir();
    cleanup = d.cleanup;
    w.dir = d.path;
    w.db = await trackerStore(d.path, { jira: jira.url });
    w.env = { HOOKSYNC_CONFIG_DIR: join(d.path, "config") };
  });
  afterEach(() => cleanup());
  w.storeCredentials = async (user = "admin") => {
    const token = w.jira.grant("hooksync", user);
    (await CredentialStore.open(w.env)).saveJira({
      baseUrl: w.jira.url,
      consumerKey: "hooksync",
      privateKey: TEST_KEY_PEM,
      accessToken: token,
      accessTokenSecret: "ignored-by-rsa-sha1",
      integration: JIRA_ID,
      savedAt: new Date(NOW).toISOString(),
    });
    return token;
  };
  return w;
}

export interface IssueFakes {
  az: AzureDevOpsFake;
  /** Work items on az; tests set them. */
  items: WorkItemsState;
  /** Issues on the Jira world's fake; tests set them. */
  issues: IssuesState;
}

/** For the file: a fake Azure DevOps with work items, search and WIQL, and issues on the Jira world's fake. */
export function issueFakes(w: JiraWorld, pat: string): IssueFakes {
  const f = {} as IssueFakes;
  beforeAll(async () => {
    f.az = await startAzureDevOps({ pat });
    f.items = installWorkItems(f.az);
    f.issues = installIssues(w.jira);
  });
  afterAll(() => f.az.close());
  return f;
}
