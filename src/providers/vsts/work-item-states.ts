import type { TrackerStatuses } from "../../trackers/status-map.js";
import type { VstsClient } from "./client.js";

interface WorkItemType {
  name?: string;
  /** WorkItemStateColor since api-version 5.0: category is Proposed, InProgress, Resolved, Completed or Removed. */
  states?: { name?: string; category?: string }[];
}

/** Completed and Removed states close a work item; Proposed, InProgress and Resolved leave it open (issue 15). */
const CLOSED = new Set(["Completed", "Removed"]);

/**
 * The states of every work item type of each project, split by category. A state name one type
 * closes and another leaves open counts as resolved: it ends some work.
 */
export async function vstsStatuses(client: VstsClient, project?: string): Promise<TrackerStatuses[]> {
  const projects = project ? [project] : (await client.get<{ value?: { id: string }[] }>("_apis/projects?$top=1000", "list projects")).value?.map((p) => p.id) ?? [];
  const out: TrackerStatuses[] = [];
  for (const id of projects) {
    const types = (await client.get<{ value?: WorkItemType[] }>(`${encodeURIComponent(id)}/_apis/wit/workitemtypes`, `read the work item types of project ${id}`)).value ?? [];
    const states = types.flatMap((t) => t.states ?? []).filter((s): s is { name: string; category?: string } => typeof s.name === "string");
    const resolved = new Set(states.filter((s) => CLOSED.has(s.category ?? "")).map((s) => s.name));
    const unresolved = new Set(states.map((s) => s.name).filter((n) => !resolved.has(n)));
    out.push({ externalProject: id, resolved: [...resolved].sort(), unresolved: [...unresolved].sort() });
  }
  return out;
}
