import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, expect, onTestFinished } from "vitest";
import { CredentialStore } from "../src/config/credentials.js";
import type { ActivityView, IssueView } from "../src/store/views.js";
import { type AzureDevOpsFake, startAzureDevOps } from "./fakes/azure-devops.js";
import { type WorkItemsState, installWorkItems } from "./fakes/azure-devops-workitems.js";
import { type DiscordFake, startDiscord } from "./fakes/discord.js";
import { type IssuesState, installIssues } from "./fakes/jira-issues.js";
import { type JiraFake, TEST_KEY_PEM, startJira } from "./fakes/jira.js";
import { NOW, fixture, ndjson, run, tempDir, type TestDepsOptions, type TestRun } from "./helpers.js";

/*
 * The one test world: every id, secret and name a test store or a fake holds is defined here, once,
 * and every dataset below is built from these. Tests pick the shape they need (the full dataset,
 * the trackers' store, the outbound world) and share the constants.
 */

export { NOW };
export type { TestDepsOptions };

/** The Azure DevOps collection of the webhook fixtures. */
export const VSTS_ID = "c12d0eb8-e382-443b-9f9c-c52cba5014c2";
export const VSTS_SECRET = "vsts-test-secret-0123456789";
export const VSTS_NAME = "fabrikam";
export const VSTS_BASE_URL = "https://dev.azure.com/fabrikam-fiber-inc";
/** The project the webhook fixtures name. */
export const VSTS_PROJECT = { id: "be9b3917-87e6-42a4-a549-2bc06a7a878f", name: "Fabrikam-Fiber-Git" };
export const VSTS_PROJECT_ID = VSTS_PROJECT.id;
/** The work item type's workflow. */
export const VSTS_STATES = ["New", "Active", "Resolved", "Closed"];

export const JIRA_ID = "jira-1";
export const JIRA_SECRET = "a long secret value for jira";
export const JIRA_NAME = "Acme Jira";
export const JIRA_BASE_URL = "http://jira.example.test:8080";
/** The project id of the Jira webhook fixtures. */
export const JIRA_PROJECT = "10002";
/** Jira's workflow, with the status ids of the webhook fixtures. */
export const JIRA_STATUSES = { "10000": "To Do", "3": "In Progress", "10001": "Done" };

/** The Azure DevOps token the fake accepts. */
export const PAT = "test-pat-0123456789";

export const loadFixture = (name: string): any => JSON.parse(readFileSync(fixture(name), "utf8"));

// ---- Builders: every dataset is made of these. ----

type Member = { user: string; organization: string; projects: string[] };
type IssueRow = { id: string; project: string; title: string; status: "resolved" | "unresolved"; assignee: string | null };

const ORGANIZATIONS = { acme: { slug: "acme", name: "Acme" }, globex: { slug: "globex", name: "Globex" } };
const PROJECTS = {
  backend: { slug: "backend", organization: "acme" },
  web: { slug: "web", organization: "acme" },
  ops: { slug: "ops", organization: "globex" },
};
export const USERS = {
  jane: { email: "jane.doe@example.com", name: "Jane Doe", verified: true },
  bob: { email: "bob.smith@example.com", name: "Bob Smith", verified: true },
  chuck: { email: "fabrikamfiber3@hotmail.com", name: "Chuck Reinhart", verified: true },
  jamal: { email: "fabrikamfiber4@hotmail.com", name: "Jamal Hartnett", verified: true },
  mallory: { email: "mallory@example.com", name: "Mallory", verified: false },
  outsider: { email: "outsider@example.com", name: "Outsider", verified: true },
};
const TITLES: Record<string, string> = {
  "BACKEND-1": "TypeError in checkout",
  "BACKEND-2": "Timeout calling payments",
  "OPS-1": "Disk full on db-2",
  "WEB-1": "Login button misaligned",
};

const issue = (id: string, assignee: string | null = null): IssueRow => ({
  id,
  project: id.split("-")[0]!.toLowerCase(),
  title: TITLES[id]!,
  status: "unresolved",
  assignee,
});
const link = (issue: string, integration: string, externalKey: string) => ({ issue, integration, externalKey });
const vstsIntegration = (baseUrl: string, organizations: string[]) => ({
  provider: "vsts",
  externalId: VSTS_ID,
  name: VSTS_NAME,
  baseUrl,
  organizations,
  webhookSecret: VSTS_SECRET,
});
const jiraIntegration = (baseUrl: string, organizations: string[]) => ({
  provider: "jira",
  externalId: JIRA_ID,
  name: JIRA_NAME,
  baseUrl,
  organizations,
  webhookSecret: JIRA_SECRET,
});
const INBOUND = { inboundAssignee: true, inboundStatus: true };
const OUTBOUND = { outboundAssignee: true, outboundStatus: true };
const STATUS_MAPPINGS = [
  { integration: VSTS_ID, externalProject: VSTS_PROJECT.id, resolvedStatus: ["Closed", "Resolved"], unresolvedStatus: ["Active", "New"] },
  { integration: JIRA_ID, externalProject: JIRA_PROJECT, resolvedStatus: "10001", unresolvedStatus: ["10000", "3"] },
];

/**
 * The full dataset the engine and replay tests start from: two organizations, three projects,
 * users verified or not, BACKEND-1 and OPS-1 both linked to work item 5 (globex's inbound sync
 * off), WEB-1 and BACKEND-2 both linked to PRJA-37. A fresh copy each call: tests extend it.
 */
export function fullDataset() {
  const { jane, bob, chuck, jamal, mallory, outsider } = USERS;
  const members: Member[] = [
    { user: jane.email, organization: "acme", projects: ["backend", "web"] },
    { user: jane.email, organization: "globex", projects: ["ops"] },
    { user: bob.email, organization: "acme", projects: ["web"] },
    { user: chuck.email, organization: "acme", projects: ["backend"] },
    { user: jamal.email, organization: "acme", projects: ["backend"] },
    { user: mallory.email, organization: "acme", projects: ["backend", "web"] },
    { user: outsider.email, organization: "globex", projects: ["ops"] },
  ];
  return {
    organizations: [ORGANIZATIONS.acme, ORGANIZATIONS.globex],
    projects: [PROJECTS.backend, PROJECTS.web, PROJECTS.ops],
    users: [jane, bob, chuck, jamal, mallory, outsider],
    members,
    integrations: [vstsIntegration(VSTS_BASE_URL, ["acme", "globex"]), jiraIntegration(JIRA_BASE_URL, ["acme"])],
    sync: [
      { organization: "acme", integration: VSTS_ID, ...INBOUND },
      { organization: "globex", integration: VSTS_ID, inboundAssignee: false, inboundStatus: false },
      { organization: "acme", integration: JIRA_ID, ...INBOUND },
    ],
    statusMappings: STATUS_MAPPINGS,
    issues: [issue("BACKEND-1", jamal.email), issue("OPS-1"), issue("WEB-1"), issue("BACKEND-2")],
    links: [link("BACKEND-1", VSTS_ID, "5"), link("OPS-1", VSTS_ID, "5"), link("WEB-1", JIRA_ID, "PRJA-37"), link("BACKEND-2", JIRA_ID, "PRJA-37")],
  };
}

/** The full dataset (or data) written as an import file in dir; its path. */
export function datasetFile(dir: string, data: object = fullDataset()): string {
  const path = join(dir, `dataset-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(data));
  return path;
}

/** One VSTS and one Jira integration of acme, BACKEND-1 linked to PRJA-37, Jane a member: what tracker commands need. */
function trackerDataset(urls: { vsts?: string; jira?: string }) {
  return {
    organizations: [ORGANIZATIONS.acme],
    projects: [PROJECTS.backend],
    users: [USERS.jane],
    members: [{ user: USERS.jane.email, organization: "acme", projects: ["backend"] }],
    integrations: [vstsIntegration(urls.vsts ?? VSTS_BASE_URL, ["acme"]), jiraIntegration(urls.jira ?? JIRA_BASE_URL, ["acme"])],
    sync: [{ organization: "acme", integration: JIRA_ID, ...INBOUND }],
    issues: [issue("BACKEND-1")],
    links: [link("BACKEND-1", JIRA_ID, "PRJA-37")],
  };
}

/**
 * Organization acme pushes both fields to both trackers; globex takes inbound sync only. BACKEND-1
 * (acme) links work item 5 and PRJA-37; OPS-1 (globex) links work item 7 and PRJA-38. Jane is a
 * verified member of both projects, known to both trackers by her email.
 */
function outboundDataset(vstsUrl: string, jiraUrl: string) {
  const { jane, bob, mallory } = USERS;
  return {
    organizations: [ORGANIZATIONS.acme, ORGANIZATIONS.globex],
    projects: [PROJECTS.backend, PROJECTS.ops],
    users: [jane, bob, mallory],
    members: [
      { user: jane.email, organization: "acme", projects: ["backend"] },
      { user: jane.email, organization: "globex", projects: ["ops"] },
      { user: bob.email, organization: "acme", projects: ["backend"] },
      { user: mallory.email, organization: "acme", projects: ["backend"] },
    ],
    integrations: [vstsIntegration(vstsUrl, ["acme", "globex"]), jiraIntegration(jiraUrl, ["acme", "globex"])],
    sync: [
      { organization: "acme", integration: VSTS_ID, ...INBOUND, ...OUTBOUND },
      { organization: "acme", integration: JIRA_ID, ...INBOUND, ...OUTBOUND },
      { organization: "globex", integration: VSTS_ID, ...INBOUND },
      { organization: "globex", integration: JIRA_ID, ...INBOUND },
    ],
    statusMappings: STATUS_MAPPINGS,
    issues: [issue("BACKEND-1"), issue("OPS-1")],
    links: [link("BACKEND-1", VSTS_ID, "5"), link("BACKEND-1", JIRA_ID, "PRJA-37"), link("OPS-1", VSTS_ID, "7"), link("OPS-1", JIRA_ID, "PRJA-38")],
  };
}

// ---- Worlds ----

/**
 * A store with the full dataset imported, and shortcuts to drive it: in a temp dir, or at target
 * (a store target with nothing in it, e.g. a PostgreSQL database: see test/pg.ts storeTargets).
 */
export async function world(target?: string) {
  const dir = tempDir();
  onTestFinished(dir.cleanup);
  const db = target ?? join(dir.path, "hooksync.db");
  if ((await run(["init", "--db", db])).code !== 0) throw new Error(`init failed at ${db}`);
  const imported = await run(["import", datasetFile(dir.path), "--db", db]);
  if (imported.code !== 0) throw new Error(`dataset import failed: ${imported.stderr}`);
  const w = {
    db,
    dir: dir.path,
    run: (argv: string[], o?: TestDepsOptions) => run([...argv, "--db", db], o),
    /** Replays payloads through stdin as NDJSON, returning the outcome lines and the exit code. */
    async replay(payloads: unknown[], flags: string[] = []) {
      const r = await w.run(["replay", "-", "--json", ...flags], { stdin: payloads.map((p) => JSON.stringify(p)).join("\n") });
      return { code: r.code, stderr: r.stderr, outcomes: ndjson(r.stdout) as any[] };
    },
    async replayOne(payload: unknown, flags: string[] = []) {
      const r = await w.replay([payload], flags);
      return { ...r.outcomes[0], code: r.code };
    },
    async issues(): Promise<Record<string, IssueView>> {
      const r = await w.run(["issue", "list", "--json"]);
      return Object.fromEntries((JSON.parse(r.stdout) as IssueView[]).map((i) => [i.id, i]));
    },
    async activity(): Promise<ActivityView[]> {
      return JSON.parse((await w.run(["activity", "--json"])).stdout) as ActivityView[];
    },
  };
  return w;
}

/** `hooksync import` of data into the store at db (made by `hooksync init` first when missing), which must succeed. */
async function importInto(db: string, dir: string, data: object, env?: Record<string, string>): Promise<void> {
  if (!existsSync(db)) expect((await run(["init", "--db", db], env ? { env } : {})).code).toBe(0);
  const r = await run(["import", datasetFile(dir, data), "--db", db], env ? { env } : {});
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
}

/** A store in dir with one VSTS and one Jira integration whose base URLs are the fakes'. */
export async function trackerStore(dir: string, urls: { vsts?: string; jira?: string }): Promise<string> {
  const db = join(dir, "hooksync.db");
  await importInto(db, dir, trackerDataset(urls));
  return db;
}

/** Fails the test when any of the secrets shows up on stdout or stderr. */
export function expectNoSecrets(r: Pick<TestRun, "stdout" | "stderr">, secrets: string[]): void {
  for (const s of secrets) {
    expect(r.stdout, `stdout leaks ${s}`).not.toContain(s);
    expect(r.stderr, `stderr leaks ${s}`).not.toContain(s);
  }
}

/** Credentials for the Jira integration as 'hooksync oauth jira' leaves them, in env's config directory; the access token. */
async function saveJiraCredentials(jira: JiraFake, env: Record<string, string>, user: string): Promise<string> {
  const token = jira.grant("hooksync", user);
  (await CredentialStore.open(env)).saveJira({
    baseUrl: jira.url,
    consumerKey: "hooksync",
    privateKey: TEST_KEY_PEM,
    accessToken: token,
    accessTokenSecret: "ignored-by-rsa-sha1",
    integration: JIRA_ID,
    savedAt: new Date(NOW).toISOString(),
  });
  return token;
}

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
 * One fake Jira for the file and, for each test, a fresh directory with the trackers' store (Jira's
 * base URL the fake's) and a config directory; the fake's state reset.
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
  w.storeCredentials = (user = "admin") => saveJiraCredentials(w.jira, w.env, user);
  return w;
}

export interface IssueFakes {
  az: AzureDevOpsFake;
  /** Work items on az; tests put them. */
  items: WorkItemsState;
  /** Issues on the Jira world's fake; tests put them. */
  issues: IssuesState;
}

/** For the file: a fake Azure DevOps with work items, and issues on the Jira world's fake. */
export function issueFakes(w: JiraWorld, pat: string = PAT): IssueFakes {
  const f = {} as IssueFakes;
  beforeAll(async () => {
    f.az = await startAzureDevOps({ pat });
    f.items = installWorkItems(f.az, { project: VSTS_PROJECT, states: VSTS_STATES });
    f.issues = installIssues(w.jira, { projectId: JIRA_PROJECT, statuses: JIRA_STATUSES });
  });
  afterAll(() => f.az.close());
  return f;
}

export interface OutboundWorld {
  azure: AzureDevOpsFake;
  workItems: WorkItemsState;
  jira: JiraFake;
  /** The issues on jira. */
  jiraIssues: IssuesState;
  discord: DiscordFake;
  dir: string;
  db: string;
  /** The Azure DevOps token and the test's own config directory (with Jira credentials for JIRA_ID). */
  env: Record<string, string>;
  /** `hooksync <argv> --db <db>` with env. */
  run(argv: string[], o?: TestDepsOptions): Promise<TestRun>;
  /** `hooksync import` of a partial dataset. */
  importData(data: Record<string, unknown>): Promise<void>;
  /** What a request to a fake sent: method, path and body. */
  calls(fake: { requests: { method: string; url: URL; body: string }[] }): string[];
}

/**
 * The outbound dataset (see outboundDataset) over the three fakes: work items 5 and 7, issues
 * PRJA-37 and PRJA-38, Jane and Bob known to both trackers by their emails. The store is in each
 * test's temp dir, or at the target given for the test (see world).
 */
export function outboundWorld(target?: () => Promise<string>): OutboundWorld {
  const w = {} as OutboundWorld;
  let cleanup = () => {};
  beforeAll(async () => {
    w.azure = await startAzureDevOps({ pat: PAT });
    w.workItems = installWorkItems(w.azure, { project: VSTS_PROJECT, states: VSTS_STATES });
    w.jira = await startJira({ now: () => NOW });
    w.jiraIssues = installIssues(w.jira, { projectId: JIRA_PROJECT, statuses: JIRA_STATUSES });
    w.jira.state.users.push({ name: "bsmith", key: "JIRAUSER10600", displayName: USERS.bob.name, emailAddress: USERS.bob.email });
    w.discord = await startDiscord();
  });
  afterAll(async () => {
    await Promise.all([w.azure.close(), w.jira.close(), w.discord.close()]);
  });
  beforeEach(async () => {
    for (const f of [w.azure, w.jira, w.discord]) f.reset();
    w.workItems.items.clear();
    w.workItems.identities.clear();
    w.workItems.put({ id: 5, state: "New", title: "Work item 5" }, { id: 7, state: "New", title: "Work item 7" });
    w.workItems.retryAfterOnSuccess = null;
    for (const u of [USERS.jane, USERS.bob]) w.workItems.identities.set(u.email, u.name);
    w.jiraIssues.issues.clear();
    w.jiraIssues.put({ key: "PRJA-37", status: "10000" }, { key: "PRJA-38", status: "10000" });
    w.jiraIssues.unreachable.clear();
    w.jiraIssues.unassignable.clear();
    w.discord.state.webhooks.clear();
    w.discord.state.bucket = null;

    const d = tempDir();
    cleanup = d.cleanup;
    w.dir = d.path;
    w.db = target ? await target() : join(d.path, "hooksync.db");
    w.env = { AZURE_DEVOPS_EXT_PAT: w.azure.state.pat, HOOKSYNC_CONFIG_DIR: join(d.path, "config") };
    await w.importData(outboundDataset(w.azure.url, w.jira.url));
    await saveJiraCredentials(w.jira, w.env, "admin");
  });
  afterEach(() => cleanup());

  w.run = (argv, o = {}) => run([...argv, "--db", w.db], { ...o, env: { ...w.env, ...o.env } });
  w.importData = (data) => importInto(w.db, w.dir, data, w.env);
  w.calls = (fake) => fake.requests.map((r) => `${r.method} ${r.url.pathname}${r.body ? ` ${r.body}` : ""}`);
  return w;
}
