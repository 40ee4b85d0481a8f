import type { IntegrationRow } from "../store/integrations-repo.js";
import type { StatusMapRow } from "../store/status-maps-repo.js";
import type { Store } from "../store/store.js";

/** What a tracker says of one project: its statuses (VSTS state names, Jira status ids) that resolve an issue and those that do not. */
export interface TrackerStatuses {
  externalProject: string;
  resolved: string[];
  unresolved: string[];
}

export type StatusMapAction = "create" | "update" | "keep";

/** One line of `status-map fetch --json` (cli.md). */
export interface StatusMapPlan {
  integration: string;
  externalProject: string;
  resolvedStatus: string[];
  unresolvedStatus: string[];
  action: StatusMapAction;
  /** Set when a mapping the user wrote is kept though the tracker says otherwise. */
  note?: string;
}

const same = (a: string[], b: string[]): boolean => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);

/**
 * What fetch would do per project: create what is missing, keep what already says the same,
 * update what fetch wrote before; a mapping the user wrote stays unless replace.
 */
export function planStatusMaps(integration: IntegrationRow, fetched: TrackerStatuses[], existing: StatusMapRow[], replace: boolean): StatusMapPlan[] {
  const byProject = new Map(existing.map((m) => [m.externalProject, m]));
  return fetched.map((f) => {
    const had = byProject.get(f.externalProject);
    const line = { integration: integration.externalId, externalProject: f.externalProject, resolvedStatus: f.resolved, unresolvedStatus: f.unresolved };
    if (!had) return { ...line, action: "create" };
    if (same(had.resolved, f.resolved) && same(had.unresolved, f.unresolved)) return { ...line, action: "keep" };
    if (had.fetched || replace) return { ...line, action: "update" };
    return {
      ...line,
      resolvedStatus: had.resolved,
      unresolvedStatus: had.unresolved,
      action: "keep",
      note: "written by hand: kept (--replace writes what the tracker says)",
    };
  });
}

/** Plans against the store and writes the creates and updates in one transaction (none with dryRun). */
export function applyStatusMaps(store: Store, integration: IntegrationRow, fetched: TrackerStatuses[], o: { replace?: boolean; dryRun?: boolean }): Promise<StatusMapPlan[]> {
  return store.inTransaction(async (tx) => {
    const repo = tx.statusMaps;
    const plans = planStatusMaps(integration, fetched, await repo.list(integration.id), o.replace === true);
    for (const p of plans) {
      if (p.action !== "keep") await repo.writeFetched(integration.id, { externalProject: p.externalProject, resolved: p.resolvedStatus, unresolved: p.unresolvedStatus });
    }
    return plans;
  }, o.dryRun === true);
}
