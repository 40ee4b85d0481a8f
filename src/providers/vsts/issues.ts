import { identityEmail } from "../email.js";
import { isObject } from "../schema.js";
import { type ExternalIssue, MAX_SEARCH_RESULTS } from "../types.js";
import type { VstsClient, WorkItem, WorkItemSearchResult } from "./client.js";

/** Search answers nothing meaningful while the index is being built: reindexing, not started, onboarding. */
const INDEX_NOT_READY = new Set([1, 2, 6, 7]);

/** A work item id (a positive 32-bit number, as Azure DevOps numbers them), without leading zeros. */
export function workItemId(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d{1,10}$/.test(t)) return undefined;
  const id = Number(t);
  return id >= 1 && id <= 2 ** 31 - 1 ? id : undefined;
}

/** WIQL for the titles that contain text, newest change first; WIQL doubles a quote inside a string. */
export const titleQuery = (text: string): string =>
  `SELECT [System.Id] FROM WorkItems WHERE [System.Title] CONTAINS '${text.replaceAll("'", "''")}' ORDER BY [System.ChangedDate] DESC`;

/** The email of an identity ("Name <email>", or an object since api-version 5.0), else its display name. */
export function person(identity: unknown): string | null {
  const email = identityEmail(identity);
  if (email !== null) return email;
  if (typeof identity === "string") return identity.trim() || null;
  if (!isObject(identity)) return null;
  const display = typeof identity.displayName === "string" ? identity.displayName.trim() : "";
  return display || (typeof identity.uniqueName === "string" ? identity.uniqueName.trim() : "") || null;
}

const text = (v: unknown): string => (typeof v === "string" ? v : v === undefined || v === null ? "" : String(v));

const issue = (baseUrl: string, id: string, f: { title: unknown; state: unknown; assignedTo: unknown }): ExternalIssue => ({
  key: id,
  title: text(f.title),
  status: text(f.state),
  assignee: person(f.assignedTo),
  url: `${baseUrl}/_workitems/edit/${id}`,
});

export const fromWorkItem = (w: WorkItem, baseUrl: string): ExternalIssue =>
  issue(baseUrl, String(w.id), { title: w.fields?.["System.Title"], state: w.fields?.["System.State"], assignedTo: w.fields?.["System.AssignedTo"] });

/** Search names fields in lower case and gives every value as a string. */
const fromSearchResult = (r: WorkItemSearchResult, baseUrl: string): ExternalIssue[] => {
  const id = workItemId(r.fields?.["system.id"] ?? "");
  return id === undefined ? [] : [issue(baseUrl, String(id), { title: r.fields?.["system.title"], state: r.fields?.["system.state"], assignedTo: r.fields?.["system.assignedto"] })];
};

export async function workItemIssue(client: VstsClient, id: number): Promise<ExternalIssue | undefined> {
  const w = await client.workItem(id);
  return w && fromWorkItem(w, client.baseUrl);
}

/**
 * A number is the work item itself; other text goes to work item search, or to a WIQL title
 * query where search is not installed or its index is not built yet (note says so).
 */
export async function findWorkItems(client: VstsClient, query: string, note: (line: string) => void): Promise<ExternalIssue[]> {
  const id = workItemId(query);
  if (id !== undefined) {
    const found = await workItemIssue(client, id);
    return found ? [found] : [];
  }
  const searched = await client.searchWorkItems(query, MAX_SEARCH_RESULTS);
  const results = searched?.results ?? [];
  if (searched && (results.length > 0 || !INDEX_NOT_READY.has(searched.infoCode ?? 0))) {
    return results.flatMap((r) => fromSearchResult(r, client.baseUrl));
  }
  note(
    searched
      ? `work item search is still indexing (infoCode ${searched.infoCode}): matching titles only`
      : "work item search is not installed on this server: matching titles only",
  );
  const items = await client.workItems(await client.wiql(titleQuery(query), MAX_SEARCH_RESULTS));
  return items.map((w) => fromWorkItem(w, client.baseUrl));
}
