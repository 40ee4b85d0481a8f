import type { TrackerStatuses } from "../../trackers/status-map.js";
import type { JiraClient } from "./client.js";

interface IssueTypeStatuses {
  statuses?: { id?: string; statusCategory?: { key?: string } }[];
}

/**
 * Each project's statuses by id (what Jira's changelog carries), split by statusCategory: `done`
 * resolves, `new` and `indeterminate` leave open. A status one issue type's workflow puts in done
 * and another's elsewhere cannot be: a status has one category.
 */
export async function jiraStatuses(client: JiraClient, project?: string): Promise<TrackerStatuses[]> {
  const projects = project ? [project] : (await client.get<{ id: string }[]>("/rest/api/2/project", "list projects")).map((p) => p.id);
  const out: TrackerStatuses[] = [];
  for (const id of projects) {
    const types = await client.get<IssueTypeStatuses[]>(`/rest/api/2/project/${encodeURIComponent(id)}/statuses`, `read the statuses of project ${id}`);
    const statuses = new Map(types.flatMap((t) => t.statuses ?? []).flatMap((s) => (s.id ? [[s.id, s.statusCategory?.key === "done"] as const] : [])));
    const ids = [...statuses.keys()].sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
    out.push({ externalProject: id, resolved: ids.filter((s) => statuses.get(s)), unresolved: ids.filter((s) => !statuses.get(s)) });
  }
  return out;
}
