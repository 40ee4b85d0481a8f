import type { Sql } from "./sql.js";

/** One status mapping (rule 5.2): the tracker's statuses that mean resolved and unresolved for one external project. */
export interface StatusMapRow {
  externalProject: string;
  resolved: string[];
  unresolved: string[];
  /** Whether 'status-map fetch' wrote it as it stands: otherwise the user did (import, or an edit since). */
  fetched: boolean;
}

const asJson = (resolved: string[], unresolved: string[]): string => JSON.stringify({ resolved, unresolved });

const OF_INTEGRATION = `SELECT external_project AS externalProject, resolved, unresolved, fetched FROM status_mappings WHERE integration_id = ? ORDER BY external_project`;
const UPSERT = `
  INSERT INTO status_mappings (integration_id, external_project, resolved, unresolved, fetched) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (integration_id, external_project) DO UPDATE SET resolved = excluded.resolved, unresolved = excluded.unresolved, fetched = excluded.fetched`;

/** The status mappings of an integration as 'status-map fetch' reads and writes them. */
export class StatusMapsRepo {
  constructor(private readonly sql: Sql) {}

  async list(integrationId: number): Promise<StatusMapRow[]> {
    const rows = await this.sql.all<{ externalProject: string; resolved: string; unresolved: string; fetched: string | null }>(OF_INTEGRATION, [
      integrationId,
    ]);
    return rows.map((r) => {
      const resolved = JSON.parse(r.resolved) as string[];
      const unresolved = JSON.parse(r.unresolved) as string[];
      return { externalProject: r.externalProject, resolved, unresolved, fetched: r.fetched === asJson(resolved, unresolved) };
    });
  }

  /** Written as fetched: a later fetch may replace it, until the user changes it. */
  async writeFetched(integrationId: number, m: { externalProject: string; resolved: string[]; unresolved: string[] }): Promise<void> {
    await this.sql.run(UPSERT, [integrationId, m.externalProject, JSON.stringify(m.resolved), JSON.stringify(m.unresolved), asJson(m.resolved, m.unresolved)]);
  }
}
