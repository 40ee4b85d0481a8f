import type { Db } from "./db.js";

export interface DeletedProject {
  project: string;
  issues: number;
  links: number;
  activity: number;
  memberships: number;
  /** Pushes and notifications, sent or not: an unsent one would name an issue that is gone. */
  outbox: number;
  discordMessages: number;
}

/** How many issues the project has; undefined when there is no such project. */
export function projectIssueCount(db: Db, slug: string): number | undefined {
  return db
    .prepare<[string], { n: number }>("SELECT COUNT(i.id) AS n FROM projects p LEFT JOIN issues i ON i.project_id = p.id WHERE p.slug = ? GROUP BY p.id")
    .get(slug)?.n;
}

/**
 * Rule 9.2: a project goes with its issues, links, activity, memberships, outbox rows and Discord
 * message ids (its notification state), deleted table by table in the caller's transaction rather
 * than left to ON DELETE rules nobody reads. Tables added later that hang off issues must be added
 * here too (the test lists every table).
 */
export function deleteProject(db: Db, slug: string): DeletedProject | undefined {
  const project = db.prepare<[string], { id: number }>("SELECT id FROM projects WHERE slug = ?").get(slug);
  if (!project) return undefined;
  const issuesOf = "SELECT id FROM issues WHERE project_id = ?";
  const run = (sql: string) => db.prepare(sql).run(project.id).changes;
  const outbox = run(`DELETE FROM outbox WHERE issue_id IN (${issuesOf})`);
  const discordMessages = run(`DELETE FROM discord_messages WHERE issue_id IN (${issuesOf})`);
  const activity = run(`DELETE FROM activity WHERE issue_id IN (${issuesOf})`);
  const links = run(`DELETE FROM links WHERE issue_id IN (${issuesOf})`);
  const memberships = run("DELETE FROM member_projects WHERE project_id = ?");
  const issues = run("DELETE FROM issues WHERE project_id = ?");
  run("DELETE FROM projects WHERE id = ?");
  return { project: slug, issues, links, activity, memberships, outbox, discordMessages };
}
