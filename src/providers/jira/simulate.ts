import { createHash } from "node:crypto";
import { UsageError } from "../../errors.js";
import { isObject } from "../schema.js";
import { buildFromTemplate, type Randomness, randomBelow, requireTemplate } from "../template.js";

export interface JiraSimulation {
  /** issue_updated or issue_created (the template names, without "jira:"). */
  event: string;
  baseUrl: string;
  issue: string;
  assignee?: string;
  unassign?: boolean;
  status?: string;
  fromStatus?: string;
  project?: string;
}

/** The fixtures' Jira Server, used when the store names none (`--print` without a store). */
export const JIRA_EXAMPLE = { baseUrl: "http://jira.example.test:8080", project: "10002" };

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (isObject(v) ? v : {});

// Jira Server's built-in statuses; other ids are per instance and get a neutral name.
const CATEGORIES = {
  new: { id: 2, key: "new", colorName: "blue-gray", name: "To Do" },
  indeterminate: { id: 4, key: "indeterminate", colorName: "yellow", name: "In Progress" },
  done: { id: 3, key: "done", colorName: "green", name: "Done" },
};
const STATUSES: Record<string, { name: string; icon: string; category: keyof typeof CATEGORIES }> = {
  "1": { name: "Open", icon: "open", category: "new" },
  "3": { name: "In Progress", icon: "inprogress", category: "indeterminate" },
  "4": { name: "Reopened", icon: "reopened", category: "new" },
  "5": { name: "Resolved", icon: "resolved", category: "done" },
  "6": { name: "Closed", icon: "closed", category: "done" },
  "10000": { name: "To Do", icon: "open", category: "new" },
  "10001": { name: "Done", icon: "closed", category: "done" },
};
const statusInfo = (id: string) => STATUSES[id] ?? { name: `Status ${id}`, icon: "generic", category: "indeterminate" as const };

function statusObject(baseUrl: string, id: string): Json {
  const s = statusInfo(id);
  const c = CATEGORIES[s.category];
  return {
    self: `${baseUrl}/rest/api/2/status/${id}`,
    description: "",
    iconUrl: `${baseUrl}/images/icons/statuses/${s.icon}.png`,
    name: s.name,
    id,
    statusCategory: { self: `${baseUrl}/rest/api/2/statuscategory/${c.id}`, ...c },
  };
}

/** A Jira Server user object (REST v2) for an email: user name from its local part, as admins often do. */
function userObject(baseUrl: string, email: string): Json {
  const name = email.split("@")[0] || email;
  const displayName = name
    .split(/[._-]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(" ");
  const hash = createHash("md5").update(email.trim().toLowerCase()).digest("hex");
  const avatar = (size: number) => `https://www.gravatar.com/avatar/${hash}?d=mm&s=${size}`;
  return {
    self: `${baseUrl}/rest/api/2/user?username=${encodeURIComponent(name)}`,
    name,
    key: name,
    emailAddress: email,
    avatarUrls: { "48x48": avatar(48), "24x24": avatar(24), "16x16": avatar(16), "32x32": avatar(32) },
    displayName: displayName || name,
    active: true,
    timeZone: "Europe/London",
  };
}

const ISSUE_KEY = /^([A-Z][A-Z0-9_]*)-(\d+)$/;

/**
 * A Jira Server webhook body from the template of the event: this server's URLs, the issue and
 * project named by the flags, a fresh changelog id and timestamp, and the changelog items the
 * flags ask for. issue_created carries no changelog, as Jira Server sends it.
 */
export function simulateJira(s: JiraSimulation, r: Randomness): Json {
  requireTemplate("jira", s.event);
  const key = ISSUE_KEY.exec(s.issue);
  if (!key) throw new UsageError(`--issue ${s.issue} is not an issue key`, "e.g. --issue PRJA-37");
  const created = s.event === "issue_created";
  if (s.fromStatus !== undefined && (created || s.status === undefined)) {
    throw new UsageError("--from-status goes with --status on issue_updated", "add --status <id>");
  }

  const payload = buildFromTemplate("jira", s.event, {
    baseUrl: s.baseUrl,
    issueKey: s.issue,
    // Jira numbers issues and their ids apart; a stable id per key keeps one issue one issue.
    issueId: String(10_000 + Number(key[2])),
    projectId: s.project ?? JIRA_EXAMPLE.project,
    projectKey: key[1]!,
    timestamp: r.now.getTime(),
    updated: r.now.toISOString().replace("Z", "+0000"),
    changelogId: String(10_000 + randomBelow(r.random, 10_000_000)),
  });

  const fields = obj(obj(payload.issue).fields);
  const items: Json[] = [];
  if (s.assignee !== undefined) {
    const user = userObject(s.baseUrl, s.assignee);
    fields.assignee = user;
    items.push({ field: "assignee", fieldtype: "jira", from: null, fromString: null, to: user.name, toString: user.displayName });
  }
  if (s.unassign) {
    fields.assignee = null;
    items.push({ field: "assignee", fieldtype: "jira", from: null, fromString: null, to: null, toString: null });
  }
  if (s.status !== undefined) {
    const to = statusInfo(s.status);
    fields.status = statusObject(s.baseUrl, s.status);
    if (to.category === "done") {
      // A move to a done status resolves the issue: Jira sends the resolution item first.
      fields.resolution = { self: `${s.baseUrl}/rest/api/2/resolution/10000`, id: "10000", description: "Work has been completed on this issue.", name: "Done" };
      fields.resolutiondate = r.now.toISOString().replace("Z", "+0000");
      items.push({ field: "resolution", fieldtype: "jira", from: null, fromString: null, to: "10000", toString: "Done" });
    }
    const from = s.fromStatus ?? null;
    items.push({ field: "status", fieldtype: "jira", from, fromString: from && statusInfo(from).name, to: s.status, toString: to.name });
  }
  if (!created) {
    obj(payload.changelog).items = items;
    payload.issue_event_type_name =
      s.status !== undefined ? "issue_generic" : s.assignee !== undefined || s.unassign ? "issue_assigned" : "issue_updated";
  }
  return payload;
}
