import type { Db } from "./db.js";

/** One status mapping (rule 5.2): the tracker's statuses that mean resolved and unresolved for one external project. */
export interface StatusMapRow {
  externalProject: string;
  resolved: string[];
  unresolved: string[];
  /** Whether 'status-map fetch' wrote it as it stands: otherwise the user did (import, or an edit since). */
  fetched: boolean;
}

const asJson = (resolved: string[], unresolved: string[]): string => JSON.stringify({ resolved, unresolved });

/** The status mappings of an integration as 'status-map fetch' reads and writes them. */
export class StatusMapsRepo {
  private readonly ofIntegration;
  private readonly upsert;

  constructor(db: Db) {
    this.ofIntegration = db.prepare<[number], { externalProject: string; resolved: string; unresolved: string; fetched: string | null }>(
      `SELECT external_project AS externalProject, resolved, unresolved, fetched FROM status_mappings WHERE integration_id = ? ORDER BY external_project`,
    );
    this.upsert = db.prepare<[number, string, string, string, string]>(`
      INSERT INTO status_mappings (integration_id, external_project, resolved, unresolved, fetched) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (integration_id, external_project) DO UPDATE SET resolved = excluded.resolved, unresolved = excluded.unresolved, fetched = excluded.fetched`);
  }

  list(integrationId: number): StatusMapRow[] {
    return this.ofIntegration.all(integrationId).map((r) => {
      const resolved = JSON.parse(r.resolved) as string[];
      const unresolved = JSON.parse(r.unresolved) as string[];
      return { externalProject: r.externalProject, resolved, unresolved, fetched: r.fetched === asJson(resolved, unresolved) };
    });
  }

  /** Written as fetched: a later fetch may replace it, until the user changes it. */
  writeFetched(integrationId: number, m: { externalProject: string; resolved: string[]; unresolved: string[] }): void {
    this.upsert.run(integrationId, m.externalProject, JSON.stringify(m.resolved), JSON.stringify(m.unresolved), asJson(m.resolved, m.unresolved));
  }
}
