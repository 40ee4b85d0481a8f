import type { Db } from "./db.js";

export interface DeletedProject {
  project: string;
  issues: number;
  links: number;
  activity: number;
  memberships: number;
}

/**
 * Rule 9.2: a project goes with its issues, links, activity and memberships, deleted table by
 * table in the caller's transaction rather than left to ON DELETE rules nobody reads. Tables
 * added later that hang off issues must be added here too (the test lists every table).
 */
export function deleteProject(db: Db, slug: string): DeletedProject | undefined {
  const project = db.prepare<[string], { id: number }>("SELECT id FROM projects WHERE slug = ?").get(slug);
  if (!project) return undefined;
  const issuesOf = "SELECT id FROM issues WHERE project_id = ?";
  const run = (sql: string) => db.prepare(sql).run(project.id).changes;
  const activity = run(`DELETE FROM activity WHERE issue_id IN (${issuesOf})`);
  const links = run(`DELETE FROM links WHERE issue_id IN (${issuesOf})`);
  const memberships = run("DELETE FROM member_projects WHERE project_id = ?");
  const issues = run("DELETE FROM issues WHERE project_id = ?");
  run("DELETE FROM projects WHERE id = ?");
  return { project: slug, issues, links, activity, memberships };
}
