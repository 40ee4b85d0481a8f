import { type AzureDevOpsFake, vssError } from "./azure-devops.js";
import type { FakeReply, FakeRequest } from "./server.js";

/**
 * A work item as the fake keeps it: its fields by reference name, as a PATCH sets them.
 * System.AssignedTo holds the assignee's email (absent when unassigned); the display name comes
 * from the organization's identities.
 */
export interface FakeWorkItem {
  id: number;
  rev: number;
  project: { id: string; name: string };
  fields: Record<string, string>;
}

/** A work item as tests write it; `assignedTo` is "Name <email>", the way search shows it. */
export interface WorkItemSpec {
  id: number;
  title?: string;
  state?: string;
  type?: string;
  description?: string;
  assignedTo?: string | null;
  changedDate?: string;
  project?: { id: string; name: string };
}

/**
 * How work item search answers: "installed"; "missing", a 404 as from a server without the Search
 * extension; "not installed", a VSS error naming the missing extension; "indexing", no results
 * and infoCode 2 (account indexing has not started).
 */
export type SearchMode = "installed" | "missing" | "not installed" | "indexing";

export interface WorkItemsState {
  items: Map<number, FakeWorkItem>;
  /** The organization's users (lower-cased email -> display name): the only ones a work item can be assigned. */
  identities: Map<string, string>;
  /** The states the work item type's workflow has. */
  states: string[];
  /** Seconds sent as Retry-After on the next successful update, as Azure DevOps does when it throttles (protocols.md A.7); then cleared. */
  retryAfterOnSuccess: number | null;
  search: SearchMode;
  /** Adds (or replaces) work items written as specs; an assignee joins the identities. */
  put(...specs: WorkItemSpec[]): void;
}

/** Fields Azure DevOps knows; asking for another is a 400 (TF51535). */
const KNOWN_FIELDS = new Set([
  "System.Id",
  "System.Title",
  "System.State",
  "System.AssignedTo",
  "System.WorkItemType",
  "System.Description",
  "System.ChangedDate",
  "System.TeamProject",
  "System.Rev",
]);
const MAX_BATCH = 200;
const MAX_SEARCH_TOP = 1000;
const OPS = new Set(["add", "remove", "replace", "test", "move", "copy"]);

/** WIQL that hooksync sends, and only that: anything else is the syntax error a real server would find in a broken query. */
const TITLE_QUERY = /^SELECT \[System\.Id\] FROM WorkItems WHERE \[System\.Title\] CONTAINS '((?:[^']|'')*)' ORDER BY \[System\.ChangedDate\] DESC$/i;

const missing = (id: number | string) =>
  vssError(404, "WorkItemUnauthorizedAccessException", `TF401232: Work item ${id} does not exist, or you do not have permissions to read it.`);
const rule = (field: string) =>
  vssError(400, "RuleValidationException", `TF401320: Rule Error for field ${field}. Error code: Required, HasValues, LimitedToValues, AllowsOldValue, InvalidUnknown.`);

/** The email of "Name <email>", or the string itself. */
const emailOf = (display: string) => /<([^>]+)>\s*$/.exec(display)?.[1] ?? display;

/**
 * Work items on a started fake Azure DevOps (Azure DevOps REST 7.1, behind the fake's PAT,
 * organization and api-version checks): GET one and a batch, WIQL, work item search at the
 * collection URL (where the search host of a server lives; the cloud's own host is checked apart,
 * with a MockAgent), PATCH, and the project lookup. A PATCH must be application/json-patch+json
 * with a well-formed JSON Patch array, an assignee must be a user of the organization, a state one
 * of the workflow's, and removing an empty field is a 400. Work items without a project are in
 * `project`.
 */
export function installWorkItems(az: AzureDevOpsFake, o: { project: { id: string; name: string }; states?: string[] }): WorkItemsState {
  const state: WorkItemsState = {
    items: new Map(),
    identities: new Map(),
    states: o.states ?? ["New", "Active", "Resolved", "Closed"],
    retryAfterOnSuccess: null,
    search: "installed",
    put(...specs) {
      for (const s of specs) {
        const given: Record<string, string | undefined> = {
          "System.Title": s.title,
          "System.State": s.state,
          "System.WorkItemType": s.type,
          "System.Description": s.description,
          "System.ChangedDate": s.changedDate,
        };
        const fields = Object.fromEntries(Object.entries(given).filter((e): e is [string, string] => e[1] !== undefined));
        if (s.assignedTo) {
          const email = emailOf(s.assignedTo);
          fields["System.AssignedTo"] = email;
          state.identities.set(email.toLowerCase(), /^(.*?)\s*</.exec(s.assignedTo)?.[1] ?? email);
        }
        state.items.set(s.id, { id: s.id, rev: 1, project: s.project ?? o.project, fields });
      }
    },
  };
  const org = new URL(az.url).pathname;
  const href = (id: number) => `${az.url}/_apis/wit/workItems/${id}`;
  const displayName = (email: string) => state.identities.get(email.toLowerCase()) ?? email;

  /** The identity object REST answers since api-version 5.0. */
  const identity = (email: string) => ({ displayName: displayName(email), uniqueName: email, id: `id-${email}`, descriptor: `aad.${Buffer.from(email).toString("base64url")}` });

  const fieldsOf = (w: FakeWorkItem): Record<string, unknown> => {
    const { "System.AssignedTo": assignee, ...rest } = w.fields;
    return {
      "System.Id": w.id,
      "System.Rev": w.rev,
      "System.TeamProject": w.project.name,
      "System.WorkItemType": "Bug",
      ...rest,
      ...(assignee ? { "System.AssignedTo": identity(assignee) } : {}),
    };
  };

  /** The work item with only the fields asked for (those with a value). */
  const answer = (w: FakeWorkItem, wanted?: string[]) => {
    const all = fieldsOf(w);
    const fields = wanted ? Object.fromEntries(wanted.filter((f) => all[f] !== undefined).map((f) => [f, all[f]])) : all;
    return { id: w.id, rev: w.rev, fields, _links: { html: { href: `${az.url}/web/wi.aspx?id=${w.id}` } }, url: href(w.id) };
  };
  /** The fields asked for, or the 400 for a field that does not exist. */
  const fieldsParam = (req: FakeRequest): string[] | FakeReply | undefined => {
    const raw = req.url.searchParams.get("fields");
    if (raw === null) return undefined;
    const wanted = raw.split(",").map((f) => f.trim());
    const unknown = wanted.find((f) => !KNOWN_FIELDS.has(f));
    return unknown ? vssError(400, "WorkItemTrackingFieldDefinitionNotFoundException", `TF51535: Cannot find field ${unknown}.`) : wanted;
  };
  const byChange = (a: FakeWorkItem, b: FakeWorkItem) => (b.fields["System.ChangedDate"] ?? "").localeCompare(a.fields["System.ChangedDate"] ?? "");

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
        const email = emailOf(raw.value);
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

  az.route(
    {
      method: "GET",
      path: `${org}/_apis/wit/workitems/:id`,
      handler: (req, p) => {
        if (!/^\d+$/.test(p.id!)) return vssError(400, "VssPropertyValidationException", `The value '${p.id}' is not a valid work item id.`);
        const wanted = fieldsParam(req);
        if (wanted && !Array.isArray(wanted)) return wanted;
        const w = state.items.get(Number(p.id));
        return w ? { status: 200, body: answer(w, wanted) } : missing(p.id!);
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
      path: `${org}/_apis/wit/workitems`,
      handler: (req) => {
        const ids = (req.url.searchParams.get("ids") ?? "").split(",").filter(Boolean);
        if (ids.length === 0) return vssError(400, "VssPropertyValidationException", "The ids parameter is required.");
        if (ids.length > MAX_BATCH || !ids.every((i) => /^\d+$/.test(i))) return vssError(400, "VssPropertyValidationException", `ids must be at most ${MAX_BATCH} numbers.`);
        const wanted = fieldsParam(req);
        if (wanted && !Array.isArray(wanted)) return wanted;
        const omit = req.url.searchParams.get("errorPolicy")?.toLowerCase() === "omit";
        const value = [];
        for (const id of ids.map(Number)) {
          const w = state.items.get(id);
          if (!w && !omit) return missing(id);
          value.push(w ? answer(w, wanted) : null);
        }
        return { status: 200, body: { count: value.length, value } };
      },
    },
    {
      method: "POST",
      path: `${org}/_apis/wit/wiql`,
      handler: (req) => {
        const query = req.json<{ query?: unknown }>().query;
        const m = typeof query === "string" ? TITLE_QUERY.exec(query.trim()) : null;
        if (!m) return vssError(400, "WorkItemTrackingQuerySyntaxException", `TF51006: The query statement is not valid: ${String(query)}`);
        const text = m[1]!.replaceAll("''", "'").toLowerCase();
        const top = Number(req.url.searchParams.get("$top") ?? "20000");
        const found = [...state.items.values()]
          .filter((w) => (w.fields["System.Title"] ?? "").toLowerCase().includes(text))
          .sort(byChange)
          .slice(0, top);
        return {
          status: 200,
          body: {
            queryType: "flat",
            queryResultType: "workItem",
            asOf: new Date().toISOString(),
            columns: [{ referenceName: "System.Id", name: "ID", url: `${az.url}/_apis/wit/fields/System.Id` }],
            sortColumns: [{ field: { referenceName: "System.ChangedDate", name: "Changed Date" }, descending: true }],
            workItems: found.map((w) => ({ id: w.id, url: href(w.id) })),
          },
        };
      },
    },
    {
      method: "POST",
      path: `${org}/_apis/search/workitemsearchresults`,
      handler: (req) => searchAnswer(req),
    },
    {
      method: "GET",
      path: `${org}/_apis/projects/:project`,
      handler: (_req, p) => {
        const want = p.project!.toLowerCase();
        const project = [...state.items.values()].map((w) => w.project).find((x) => x.id === want || x.name.toLowerCase() === want);
        return project
          ? { status: 200, body: { ...project, url: `${az.url}/_apis/projects/${project.id}`, state: "wellFormed", revision: 7, visibility: "private" } }
          : vssError(404, "ProjectDoesNotExistWithNameException", `TF200016: The following project does not exist: ${p.project}.`);
      },
    },
  );

  function searchAnswer(req: FakeRequest): FakeReply {
    if (state.search === "missing") return vssError(404, "ResourceNotFoundException", `VS800000: no resource at ${req.url.pathname}`);
    if (state.search === "not installed") {
      return vssError(400, "ExtensionNotInstalledException", "The Search extension (ms.vss-workitem-search) is not installed in this collection.");
    }
    if (!/-preview/.test(req.url.searchParams.get("api-version") ?? "")) {
      return vssError(400, "VssInvalidPreviewVersionException", "VS403505: The requested REST API version of 7.1 is only available as preview: use 7.1-preview.1.");
    }
    let body: Record<string, unknown>;
    try {
      body = req.json<Record<string, unknown>>();
    } catch {
      return vssError(400, "VssRequestContentException", "The request body is not valid JSON.");
    }
    const { searchText, $top, $skip } = body;
    if (typeof searchText !== "string" || !searchText.trim()) return vssError(400, "InvalidQueryException", "searchText must not be empty.");
    if (!Number.isInteger($top) || ($top as number) < 1 || ($top as number) > MAX_SEARCH_TOP) {
      return vssError(400, "InvalidQueryException", `$top must be a number from 1 to ${MAX_SEARCH_TOP}.`);
    }
    if ($skip !== undefined && (!Number.isInteger($skip) || ($skip as number) < 0)) return vssError(400, "InvalidQueryException", "$skip must not be negative.");
    if (state.search === "indexing") return { status: 200, body: { count: 0, results: [], infoCode: 2, facets: {} } };
    const words = searchText.toLowerCase().split(/\s+/).filter(Boolean);
    const found = [...state.items.values()]
      .filter((w) => words.every((word) => `${w.id} ${w.fields["System.Title"] ?? ""} ${w.fields["System.Description"] ?? ""}`.toLowerCase().includes(word)))
      .sort(byChange);
    const start = ($skip as number | undefined) ?? 0;
    const results = found.slice(start, start + ($top as number)).map((w) => {
      const f = fieldsOf(w);
      const assignee = w.fields["System.AssignedTo"];
      return {
        project: { name: w.project.name, id: w.project.id },
        // Search shows an identity as the "Name <email>" string, not as REST's object.
        fields: {
          "system.id": String(w.id),
          "system.workitemtype": f["System.WorkItemType"],
          "system.title": f["System.Title"],
          "system.state": f["System.State"],
          ...(assignee ? { "system.assignedto": `${displayName(assignee)} <${assignee}>` } : {}),
          "system.changeddate": f["System.ChangedDate"],
        },
        hits: [{ fieldReferenceName: "system.title", highlights: [f["System.Title"]] }],
        url: href(w.id),
      };
    });
    return { status: 200, body: { count: found.length, results, infoCode: 0, facets: {} } };
  }

  return state;
}
