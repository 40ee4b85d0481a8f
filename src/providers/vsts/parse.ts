import * as v from "valibot";
import type { Revision, SyncEvent } from "../../engine/types.js";
import { identityEmail } from "../email.js";
import { check, idString, isObject } from "../schema.js";
import type { Headers, Parsed, Provider } from "../types.js";

const container = v.object({ id: v.optional(v.string()) });

const envelope = v.object({
  eventType: v.optional(v.string()),
  subscriptionId: v.optional(v.string()),
  notificationId: v.optional(idString),
  id: v.optional(v.string()),
  resourceContainers: v.optional(v.object({ collection: v.optional(container), project: v.optional(container) })),
});

const fieldChange = v.object({ oldValue: v.optional(v.unknown()), newValue: v.optional(v.unknown()) });
const stateChange = v.object({
  oldValue: v.optional(v.nullable(v.string())),
  newValue: v.optional(v.nullable(v.string())),
});

const updatedResource = v.object({
  workItemId: v.optional(idString),
  revision: v.optional(v.object({ id: v.optional(idString) })),
  fields: v.optional(
    v.object({
      "System.AssignedTo": v.optional(fieldChange),
      "System.State": v.optional(stateChange),
    }),
  ),
});

export const SYNCED_EVENT = "workitem.updated";

function detect(body: unknown): boolean {
  return isObject(body) && (typeof body.eventType === "string" || isObject(body.resourceContainers));
}

function parse(body: unknown): Parsed {
  const env = check(envelope, body);
  if (!env.ok) return { ok: false, event: null, integration: null, reason: env.reason };
  const event = env.value.eventType ?? null;
  const integration = env.value.resourceContainers?.collection?.id || null;
  if (!integration) {
    return { ok: false, event, integration, reason: "payload has no resourceContainers.collection.id" };
  }
  if (event !== SYNCED_EVENT) {
    return { ok: true, event, integration, externalKey: null, events: [], notes: [`event type ${event ?? "(none)"} is not synced`] };
  }
  const res = check(updatedResource, (body as Record<string, unknown>).resource, "resource");
  if (!res.ok) return { ok: false, event, integration, reason: res.reason };
  const resource = res.value;
  // Old documentation samples carry workItemId 0; revision.id is the work item id there too.
  const key = [resource.workItemId, resource.revision?.id].find((k) => k !== undefined && k !== "" && k !== "0");
  if (!key) return { ok: false, event, integration, reason: "payload has no resource.workItemId" };

  const fields = resource.fields;
  if (!fields) return { ok: true, event, integration, externalKey: key, events: [], notes: ["payload has no resource.fields"] };

  const revision = revisionOf((body as Record<string, unknown>).resource);
  const events: SyncEvent[] = [];
  const notes: string[] = [];
  const assigned = fields["System.AssignedTo"];
  if (assigned) {
    const email = assigneeEmail(assigned.newValue);
    if (email === undefined) notes.push("could not parse an email from System.AssignedTo");
    else events.push({ kind: "assignee", externalKey: key, email, revision });
  }
  const state = fields["System.State"];
  if (state) {
    const project = env.value.resourceContainers?.project?.id;
    if (!state.newValue) notes.push("System.State has no newValue");
    else if (!project) notes.push("payload has no resourceContainers.project.id: status not synced");
    else events.push({ kind: "status", externalKey: key, externalProject: project, from: state.oldValue ?? null, to: state.newValue, revision });
  }
  if (!assigned && !state) notes.push("no assignee or state change");
  return { ok: true, event, integration, externalKey: key, events, notes };
}

/**
 * Rule 10.1: `resource.rev`, else `resource.revision.rev`. Read from the raw resource and never
 * validated: a field no other rule uses must not refuse a payload.
 */
function revisionOf(resource: unknown): Revision | null {
  if (!isObject(resource)) return null;
  const rev = wholeNumber(resource.rev) ?? (isObject(resource.revision) ? wholeNumber(resource.revision.rev) : null);
  return rev === null ? null : { kind: "rev", value: rev };
}

const wholeNumber = (x: unknown): number | null => {
  const n = typeof x === "string" && /^\d{1,15}$/.test(x) ? Number(x) : x;
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0 ? n : null;
};

/**
 * Rule 2.6: null for a cleared field (unassign), the email for a string or an identity object,
 * undefined when a value is there but holds no email (ignored, never an unassign).
 */
export function assigneeEmail(value: unknown): string | null | undefined {
  if (value === undefined || value === null || value === "") return null;
  return identityEmail(value) ?? undefined;
}

function deliveryIdentity(body: unknown, _headers: Headers): string | null {
  if (!isObject(body)) return null;
  const { subscriptionId, notificationId, id } = body;
  if (typeof subscriptionId === "string" && (typeof notificationId === "number" || typeof notificationId === "string")) {
    return `${subscriptionId}:${notificationId}`;
  }
  return typeof id === "string" && id ? id : null;
}

export const vsts: Provider = { name: "vsts", detect, parse, deliveryIdentity };
