import * as v from "valibot";
import type { SyncEvent } from "../../engine/types.js";
import { check, idString, isObject } from "../schema.js";
import type { Headers, Parsed, Provider } from "../types.js";
import { jiraRevision } from "./revision.js";

const nullableId = v.optional(v.nullable(idString));

/** Only a status item's ids are read (rule 5.1); an item of any other field is never looked into. */
const statusItem = v.object({ from: nullableId, to: nullableId });

/**
 * What the sync rules read, and nothing else: a field no rule uses (the top-level timestamp a
 * logger rewrote as text, issue.id, changelog.id) never refuses a payload. Rule 10 reads the
 * revision from the raw body on its own terms.
 */
const payload = v.object({
  issue: v.optional(
    v.object({
      key: v.optional(v.string()),
      fields: v.optional(
        v.object({
          project: v.optional(v.nullable(v.object({ id: v.optional(idString) }))),
          assignee: v.optional(
            v.nullable(v.object({ emailAddress: v.optional(v.nullable(v.string())), name: v.optional(v.string()), key: v.optional(v.string()) })),
          ),
        }),
      ),
    }),
  ),
  changelog: v.optional(v.object({ items: v.optional(v.array(v.unknown())) })),
});

const fieldOf = (item: unknown): string | undefined => (isObject(item) && typeof item.field === "string" ? item.field.toLowerCase() : undefined);

const SYNCED_EVENTS = new Set(["jira:issue_updated", "jira:issue_created"]);

function detect(body: unknown): boolean {
  return isObject(body) && (typeof body.webhookEvent === "string" || (isObject(body.issue) && isObject(body.changelog)));
}

function parse(body: unknown): Parsed {
  const r = check(payload, body);
  const event = isObject(body) && typeof body.webhookEvent === "string" ? body.webhookEvent : null;
  if (!r.ok) return { ok: false, event, integration: null, reason: r.reason };
  const p = r.value;
  // Sentry reads no event name at all, so a payload without one is still processed.
  if (event !== null && !SYNCED_EVENTS.has(event)) {
    return { ok: true, event, integration: null, externalKey: null, events: [], notes: [`event type ${event} is not synced`] };
  }
  if (!p.changelog) return { ok: true, event, integration: null, externalKey: p.issue?.key || null, events: [], notes: ["no changelog"] };
  const key = p.issue?.key;
  if (!key) return { ok: false, event, integration: null, reason: "payload has no issue.key" };

  const items = p.changelog.items ?? [];
  const timestamp = isObject(body) && typeof body.timestamp === "number" ? body.timestamp : undefined;
  const revision = jiraRevision(timestamp, body);
  const events: SyncEvent[] = [];
  const notes: string[] = [];
  if (items.some((i) => fieldOf(i) === "assignee")) {
    // Rule 3.5: absence of the key is not an unassign (Sentry's data-loss bug on trimmed payloads).
    const rawFields = (body as { issue: { fields?: unknown } }).issue.fields;
    const assignee = p.issue?.fields?.assignee;
    if (!isObject(rawFields) || !Object.hasOwn(rawFields, "assignee")) notes.push("payload carries no assignee field");
    else if (assignee === null || assignee === undefined) events.push({ kind: "assignee", externalKey: key, email: null, revision });
    else if (!assignee.emailAddress) notes.push("assignee has no email address");
    else events.push({ kind: "assignee", externalKey: key, email: assignee.emailAddress, revision });
  }
  const statusIndex = items.findLastIndex((i) => fieldOf(i) === "status");
  if (statusIndex >= 0) {
    const checked = check(statusItem, items[statusIndex], `changelog.items.${statusIndex}`);
    if (!checked.ok) return { ok: false, event, integration: null, reason: checked.reason };
    const status = checked.value;
    const project = p.issue?.fields?.project?.id;
    if (!status.to) notes.push("status change has no new status id");
    else if (!project) notes.push("payload has no issue.fields.project.id: status not synced");
    else events.push({ kind: "status", externalKey: key, externalProject: project, from: status.from ?? null, to: status.to, revision });
  }
  if (events.length === 0 && notes.length === 0) notes.push("no assignee or status change");
  return { ok: true, event, integration: null, externalKey: key, events, notes };
}

function deliveryIdentity(body: unknown, headers: Headers): string | null {
  const header = headers["x-atlassian-webhook-identifier"];
  if (header) return header;
  if (!isObject(body)) return null;
  const changelog = isObject(body.changelog) ? body.changelog.id : undefined;
  const issue = isObject(body.issue) ? body.issue.id : undefined;
  if (changelog === undefined && issue === undefined) return null;
  return `${String(changelog ?? "")}:${String(issue ?? "")}:${String(body.timestamp ?? "")}`;
}

export const jira: Provider = { name: "jira", detect, parse, deliveryIdentity };
