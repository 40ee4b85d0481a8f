import type { Db } from "./db.js";

export interface ProjectView {
  slug: string;
  name: string;
  organization: string;
  issues: number;
}

/** Every local project with its organization and issue count, by slug. */
export function listProjects(db: Db): ProjectView[] {
  return db
    .prepare<[], ProjectView>(
      `SELECT p.slug, p.name, o.slug AS organization, COUNT(i.id) AS issues
       FROM projects p JOIN organizations o ON o.id = p.organization_id LEFT JOIN issues i ON i.project_id = p.id
       GROUP BY p.id ORDER BY p.slug`,
    )
    .all();
}
