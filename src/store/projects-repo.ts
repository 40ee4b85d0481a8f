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

export interface ProjectView {
  slug: string;
  name: string;
  organization: string;
  issues: number;
}

/** Local projects as the command line sees and changes them: listing, how big one is, deleting it whole. */
export class ProjectsRepo {
  private readonly count;
  private readonly bySlug;
  private readonly all;

  constructor(private readonly db: Db) {
    this.count = db.prepare<[string], { n: number }>(
      "SELECT COUNT(i.id) AS n FROM projects p LEFT JOIN issues i ON i.project_id = p.id WHERE p.slug = ? GROUP BY p.id",
    );
    this.bySlug = db.prepare<[string], { id: number }>("SELECT id FROM projects WHERE slug = ?");
    this.all = db.prepare<[], ProjectView>(
      `SELECT p.slug, p.name, o.slug AS organization, COUNT(i.id) AS issues
       FROM projects p JOIN organizations o ON o.id = p.organization_id LEFT JOIN issues i ON i.project_id = p.id
       GROUP BY p.id ORDER BY p.slug`,
    );
  }

  /** Every local project with its organization and issue count, by slug. */
  list(): ProjectView[] {
    return this.all.all();
  }

  /** How many issues the project has; undefined when there is no such project. */
  issueCount(slug: string): number | undefined {
    return this.count.get(slug)?.n;
  }

  /**
   * Rule 9.2: a project goes with its issues, links, activity, memberships, outbox rows and Discord
   * message ids (its notification state), deleted table by table in the caller's transaction rather
   * than left to ON DELETE rules nobody reads. Tables added later that hang off issues must be added
   * here too (the test lists every table).
   */
  delete(slug: string): DeletedProject | undefined {
    const project = this.bySlug.get(slug);
    if (!project) return undefined;
    const issuesOf = "SELECT id FROM issues WHERE project_id = ?";
    const run = (sql: string) => this.db.prepare(sql).run(project.id).changes;
    const outbox = run(`DELETE FROM outbox WHERE issue_id IN (${issuesOf})`);
    const discordMessages = run(`DELETE FROM discord_messages WHERE issue_id IN (${issuesOf})`);
    const activity = run(`DELETE FROM activity WHERE issue_id IN (${issuesOf})`);
    const links = run(`DELETE FROM links WHERE issue_id IN (${issuesOf})`);
    const memberships = run("DELETE FROM member_projects WHERE project_id = ?");
    const issues = run("DELETE FROM issues WHERE project_id = ?");
    run("DELETE FROM projects WHERE id = ?");
    return { project: slug, issues, links, activity, memberships, outbox, discordMessages };
  }
}
