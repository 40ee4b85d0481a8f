import { type AzureDevOpsFake, vssError } from "./azure-devops.js";
import type { FakeReply, FakeRequest } from "./server.js";

/** A work item as the fake keeps it. */
export interface FakeWorkItem {
  id: number;
  title: string;
  state: string;
  type?: string;
  description?: string;
  /** "Name <email>": REST answers an identity object made from it, search the string itself, as Azure DevOps does. */
  assignedTo?: string | null;
  changedDate: string;
}

/**
 * How work item search answers: "installed"; "missing", a 404 as from a server without the Search
 * extension; "not installed", a VSS error naming the missing extension; "indexing", no results
 * and infoCode 2 (account indexing has not started).
 */
export type SearchMode = "installed" | "missing" | "not installed" | "indexing";

export interface WorkItemsState {
  items: Map<number, FakeWorkItem>;
  search: SearchMode;
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

/** WIQL that hooksync sends, and only that: anything else is the syntax error a real server would find in a broken query. */
const TITLE_QUERY = /^SELECT \[System\.Id\] FROM WorkItems WHERE \[System\.Title\] CONTAINS '((?:[^']|'')*)' ORDER BY \[System\.ChangedDate\] DESC$/i;

const missing = (id: number | string) =>
  vssError(404, "WorkItemUnauthorizedAccessException", `TF401232: Work item ${id} does not exist, or you do not have permissions to read it.`);

/** "Jane Doe <jane@example.com>" as the identity object REST answers since api-version 5.0. */
function identity(display: string): Record<string, string> {
  const m = /^(.*?)\s*<([^>]+)>$/.exec(display);
  const [name, unique] = m ? [m[1]!, m[2]!] : [display, display];
  return { displayName: name, uniqueName: unique, id: `id-${unique}`, descriptor: `aad.${Buffer.from(unique).toString("base64url")}` };
}

/**
 * Work items on a started fake Azure DevOps (its guard still checks the PAT, the organization and
 * api-version): GET one and a batch, WIQL, and work item search at the collection URL (where the
 * search host of a server lives; the cloud's own host is checked apart, with a MockAgent).
 */
export function installWorkItems(az: AzureDevOpsFake): WorkItemsState {
  const state: WorkItemsState = { items: new Map(), search: "installed" };
  const org = new URL(az.url).pathname;
  const href = (id: number) => `${az.url}/_apis/wit/workItems/${id}`;

  const fieldsOf = (w: FakeWorkItem): Record<string, unknown> => ({
    "System.Id": w.id,
    "System.Title": w.title,
    "System.State": w.state,
    "System.WorkItemType": w.type ?? "Bug",
    "System.ChangedDate": w.changedDate,
    "System.TeamProject": "Fabrikam-Fiber-Git",
    "System.Rev": 1,
    ...(w.description ? { "System.Description": w.description } : {}),
    ...(w.assignedTo ? { "System.AssignedTo": identity(w.assignedTo) } : {}),
  });

  /** The work item with only the fields asked for (those with a value), or the 400 for a field that does not exist. */
  const answer = (w: FakeWorkItem, wanted: string[] | undefined) => {
    const all = fieldsOf(w);
    const fields = wanted ? Object.fromEntries(wanted.filter((f) => all[f] !== undefined).map((f) => [f, all[f]])) : all;
    return { id: w.id, rev: 1, fields, _links: { html: { href: `${az.url}/web/wi.aspx?id=${w.id}` } }, url: href(w.id) };
  };
  const fieldsParam = (req: FakeRequest): string[] | FakeReply | undefined => {
    const raw = req.url.searchParams.get("fields");
    if (raw === null) return undefined;
    const wanted = raw.split(",").map((f) => f.trim());
    const unknown = wanted.find((f) => !KNOWN_FIELDS.has(f));
    return unknown ? vssError(400, "WorkItemTrackingFieldDefinitionNotFoundException", `TF51535: Cannot find field ${unknown}.`) : wanted;
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
          .filter((w) => w.title.toLowerCase().includes(text))
          .sort((a, b) => b.changedDate.localeCompare(a.changedDate))
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
      .filter((w) => words.every((word) => `${w.id} ${w.title} ${w.description ?? ""}`.toLowerCase().includes(word)))
      .sort((a, b) => b.changedDate.localeCompare(a.changedDate));
    const results = found.slice(($skip as number | undefined) ?? 0, (($skip as number | undefined) ?? 0) + ($top as number)).map((w) => ({
      project: { name: "Fabrikam-Fiber-Git", id: "be9b3917-87e6-42a4-a549-2bc06a7a878f" },
      fields: {
        "system.id": String(w.id),
        "system.workitemtype": w.type ?? "Bug",
        "system.title": w.title,
        "system.state": w.state,
        ...(w.assignedTo ? { "system.assignedto": w.assignedTo } : {}),
        "system.changeddate": w.changedDate,
      },
      hits: [{ fieldReferenceName: "system.title", highlights: [w.title] }],
      url: href(w.id),
    }));
    return { status: 200, body: { count: found.length, results, infoCode: 0, facets: {} } };
  }

  return state;
}
