import { type AzureDevOpsFake, vssError } from "./azure-devops.js";
import type { FakeReply, FakeRequest } from "./server.js";

/** A work item as the fake keeps it; System.AssignedTo is the assignee's email, absent when unassigned. */
export interface FakeWorkItem {
  id: number;
  rev: number;
  project: { id: string; name: string };
  fields: Record<string, string>;
}

export interface WorkItemsState {
  items: Map<number, FakeWorkItem>;
  /** The organization's users (lower-cased email -> display name): the only ones a work item can be assigned. */
  identities: Map<string, string>;
  /** The states the work item type's workflow has. */
  states: string[];
  /** Seconds sent as Retry-After on the next successful update, as Azure DevOps does when it throttles (protocols.md A.7); then cleared. */
  retryAfterOnSuccess: number | null;
}

const OPS = new Set(["add", "remove", "replace", "test", "move", "copy"]);

/**
 * Work item read and update and project lookup (Azure DevOps REST 7.1) on a started fake, behind
 * its Basic auth and api-version checks: a PATCH must be application/json-patch+json with a
 * well-formed JSON Patch array, an assignee must be a user of the organization, a state one of
 * the workflow's, and removing an empty field is a 400.
 */
export function installWorkItems(fake: AzureDevOpsFake, o: { items: Omit<FakeWorkItem, "rev">[]; identities: Record<string, string>; states: string[] }): WorkItemsState {
  const state: WorkItemsState = {
    items: new Map(o.items.map((i) => [i.id, { ...i, rev: 1, fields: { ...i.fields } }])),
    identities: new Map(Object.entries(o.identities).map(([e, n]) => [e.toLowerCase(), n])),
    states: o.states,
    retryAfterOnSuccess: null,
  };
  const org = new URL(fake.url).pathname;

  const answer = (w: FakeWorkItem, only?: string | null) => {
    const names = only ? new Set(only.split(",")) : undefined;
    const fields: Record<string, unknown> = { "System.TeamProject": w.project.name };
    for (const [k, v] of Object.entries(w.fields)) {
      // 7.1 renders identities as objects.
      fields[k] = k === "System.AssignedTo" ? { displayName: state.identities.get(v.toLowerCase()), uniqueName: v } : v;
    }
    for (const k of Object.keys(fields)) if (names && !names.has(k)) delete fields[k];
    return { id: w.id, rev: w.rev, fields, url: `${fake.url}/_apis/wit/workItems/${w.id}` };
  };
  const missing = (id: string) => vssError(404, "WorkItemUnauthorizedAccessException", `TF401232: Work item ${id} does not exist, or you do not have permissions to read it.`);
  const rule = (field: string) => vssError(400, "RuleValidationException", `TF401320: Rule Error for field ${field}. Error code: Required, HasValues, LimitedToValues, AllowsOldValue, InvalidUnknown.`);

  const patch = (req: FakeRequest, w: FakeWorkItem): FakeReply => {
    if (!(req.headers["content-type"] ?? "").startsWith("application/json-patch+json")) {
      return vssError(415, "VssRequestContentTypeNotSupportedException", `The request indicated a Content-Type of "${req.headers["content-type"] ?? ""}" for method type "PATCH" which is not supported. Valid content types for this method are: application/json-patch+json.`);
    }
    let ops: unknown;
    try {
      ops = req.json();
    } catch {
      return vssError(400, "VssRequestContentException", "The request body is not valid JSON.");
    }
    if (!Array.isArray(ops) || ops.length === 0) return vssError(400, "VssPropertyValidationException", "You must pass a valid patch document in the body of the request.");
    const fields = { ...w.fields };
    for (const raw of ops as Record<string, unknown>[]) {
      const op = String(raw?.op);
      const m = /^\/fields\/([\w.]+)$/.exec(String(raw?.path));
      if (!OPS.has(op) || !m) return vssError(400, "InvalidPatchOperationException", `Invalid patch operation ${JSON.stringify(raw)}.`);
      const field = m[1]!;
      if (op === "remove") {
        if (fields[field] === undefined) return vssError(400, "InvalidPatchOperationException", `TF401326: Invalid field status 'InvalidEmpty' for field '${field}'.`);
        delete fields[field];
        continue;
      }
      if (typeof raw.value !== "string") return vssError(400, "InvalidPatchOperationException", `The value of ${field} must be a string.`);
      if (field === "System.AssignedTo") {
        const email = /<([^>]+)>\s*$/.exec(raw.value)?.[1] ?? raw.value;
        if (!state.identities.has(email.toLowerCase())) return rule("Assigned To");
        fields[field] = email;
      } else if (field === "System.State") {
        if (!state.states.includes(raw.value)) return rule("State");
        fields[field] = raw.value;
      } else fields[field] = raw.value;
    }
    w.fields = fields;
    w.rev++;
    const pause = state.retryAfterOnSuccess;
    state.retryAfterOnSuccess = null;
    return { status: 200, body: answer(w), ...(pause !== null ? { headers: { "retry-after": String(pause), "x-ratelimit-resource": "WorkItemTracking" } } : {}) };
  };

  fake.route(
    {
      method: "GET",
      path: `${org}/_apis/wit/workitems/:id`,
      handler: (req, p) => {
        const w = state.items.get(Number(p.id));
        return w ? { status: 200, body: answer(w, req.url.searchParams.get("fields")) } : missing(p.id!);
      },
    },
    {
      method: "PATCH",
      path: `${org}/_apis/wit/workitems/:id`,
      handler: (req, p) => {
        const w = state.items.get(Number(p.id));
        return w ? patch(req, w) : missing(p.id!);
      },
    },
    {
      method: "GET",
      path: `${org}/_apis/projects/:project`,
      handler: (_req, p) => {
        const want = p.project!.toLowerCase();
        const project = [...state.items.values()].map((w) => w.project).find((x) => x.id === want || x.name.toLowerCase() === want);
        return project
          ? { status: 200, body: { ...project, url: `${fake.url}/_apis/projects/${project.id}`, state: "wellFormed", revision: 7, visibility: "private" } }
          : vssError(404, "ProjectDoesNotExistWithNameException", `TF200016: The following project does not exist: ${p.project}.`);
      },
    },
  );
  return state;
}
