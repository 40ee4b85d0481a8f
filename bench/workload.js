// A synthetic but realistic workload: a store with many linked issues and a stream of mixed
// VSTS + Jira payloads shaped exactly like the fixtures (full size, every field).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const fixture = (name) => JSON.parse(readFileSync(join(root, "test", "fixtures", name), "utf8"));

export const VSTS_ID = "c12d0eb8-e382-443b-9f9c-c52cba5014c2";
export const VSTS_PROJECT = "be9b3917-87e6-42a4-a549-2bc06a7a878f";
export const JIRA_ID = "jira-bench";
export const JIRA_PROJECT = "10002";
const USERS = 200;
const PROJECTS = 10;

const userEmail = (i) => `user${i}@example.com`;

/** The import file: `issues` local issues, half linked to work items, half to Jira issues. */
export function dataset(issues) {
  const projects = Array.from({ length: PROJECTS }, (_, i) => ({ slug: `p${i}`, organization: "bench" }));
  return {
    organizations: [{ slug: "bench", name: "Bench Inc" }],
    projects,
    users: Array.from({ length: USERS }, (_, i) => ({ email: userEmail(i), name: `User ${i}`, verified: i % 10 !== 9 })),
    members: Array.from({ length: USERS }, (_, i) => ({
      user: userEmail(i),
      organization: "bench",
      projects: projects.filter((_, j) => (i + j) % 3 !== 0).map((p) => p.slug),
    })),
    integrations: [
      { provider: "vsts", externalId: VSTS_ID, name: "fabrikam", organizations: ["bench"], webhookSecret: "bench-vsts-secret-0123456789" },
      { provider: "jira", externalId: JIRA_ID, name: "Bench Jira", organizations: ["bench"], webhookSecret: "bench-jira-secret-0123456789" },
    ],
    sync: [
      { organization: "bench", integration: VSTS_ID, inboundAssignee: true, inboundStatus: true },
      { organization: "bench", integration: JIRA_ID, inboundAssignee: true, inboundStatus: true },
    ],
    statusMappings: [
      { integration: VSTS_ID, externalProject: VSTS_PROJECT, resolvedStatus: ["Resolved", "Closed"], unresolvedStatus: ["New", "Active"] },
      { integration: JIRA_ID, externalProject: JIRA_PROJECT, resolvedStatus: "10001", unresolvedStatus: ["10000", "3"] },
    ],
    issues: Array.from({ length: issues }, (_, i) => ({ id: `P${i % PROJECTS}-${i + 1}`, project: `p${i % PROJECTS}`, title: `Issue ${i}` })),
    links: Array.from({ length: issues }, (_, i) =>
      i % 2 === 0
        ? { issue: `P${i % PROJECTS}-${i + 1}`, integration: VSTS_ID, externalKey: String(1000 + i) }
        : { issue: `P${i % PROJECTS}-${i + 1}`, integration: JIRA_ID, externalKey: `PRJA-${1000 + i}` },
    ),
  };
}

/** A deterministic generator (xorshift) so every run replays the same payloads. */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Yields `count` NDJSON lines: VSTS and Jira, assignee and status changes, over `issues` issues. */
export function* payloadLines(count, issues, seed = 42) {
  const vsts = fixture("vsts-workitem-updated.json");
  const jira = fixture("jira-issue-updated-status-resolved.json");
  const random = rng(seed);
  const vstsStates = ["New", "Active", "Resolved", "Closed"];
  const jiraStatuses = ["10000", "3", "10001"];
  for (let n = 0; n < count; n++) {
    const i = Math.floor(random() * issues);
    const user = userEmail(Math.floor(random() * USERS));
    const assign = random() < 0.5;
    if (i % 2 === 0) {
      vsts.notificationId = n;
      vsts.resource.workItemId = 1000 + i;
      vsts.resource.revision.id = 1000 + i;
      vsts.resource.fields = assign
        ? { "System.AssignedTo": { oldValue: "Someone <x@example.com>", newValue: `User <${user}>` } }
        : { "System.State": { oldValue: "New", newValue: vstsStates[Math.floor(random() * vstsStates.length)] } };
      yield JSON.stringify(vsts);
    } else {
      jira.timestamp = 1709648433495 + n;
      jira.issue.key = `PRJA-${1000 + i}`;
      jira.issue.fields.assignee.emailAddress = user;
      jira.changelog.id = String(20000 + n);
      jira.changelog.items = assign
        ? [{ field: "assignee", fieldtype: "jira", from: "x", fromString: "X", to: "u", toString: "U" }]
        : [{ field: "status", fieldtype: "jira", from: "3", fromString: "In Progress", to: jiraStatuses[Math.floor(random() * jiraStatuses.length)], toString: "S" }];
      yield JSON.stringify(jira);
    }
  }
}
