import type { Sql } from "./sql.js";

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

const COUNT = "SELECT COUNT(i.id) AS n FROM projects p LEFT JOIN issues i ON i.project_id = p.id WHERE p.slug = ? GROUP BY p.id";
const BY_SLUG = "SELECT id FROM projects WHERE slug = ?";
// Every selected column is grouped: PostgreSQL refuses o.slug otherwise (SQLite does not mind).
const ALL = `SELECT p.slug, p.name, o.slug AS organization, COUNT(i.id) AS issues
  FROM projects p JOIN organizations o ON o.id = p.organization_id LEFT JOIN issues i ON i.project_id = p.id
  GROUP BY p.id, p.slug, p.name, o.slug ORDER BY p.slug`;

// Deleting a project, in this order: each table's rows reference the issues or the project deleted after them.
const ISSUES_OF = "SELECT id FROM issues WHERE project_id = ?";
const DELETE_OUTBOX = `DELETE FROM outbox WHERE issue_id IN (${ISSUES_OF})`;
const DELETE_DISCORD_MESSAGES = `DELETE FROM discord_messages WHERE issue_id IN (${ISSUES_OF})`;
const DELETE_ACTIVITY = `DELETE FROM activity WHERE issue_id IN (${ISSUES_OF})`;
const DELETE_LINKS = `DELETE FROM links WHERE issue_id IN (${ISSUES_OF})`;
const DELETE_MEMBERSHIPS = "DELETE FROM member_projects WHERE project_id = ?";
const DELETE_ISSUES = "DELETE FROM issues WHERE project_id = ?";
const DELETE_PROJECT = "DELETE FROM projects WHERE id = ?";

/** Local projects as the command line sees and changes them: listing, how big one is, deleting it whole. */
export class ProjectsRepo {
  constructor(private readonly sql: Sql) {}

  /** Every local project with its organization and issue count, by slug. */
  list(): Promise<ProjectView[]> {
    return this.sql.all<ProjectView>(ALL);
  }

  /** How many issues the project has; undefined when there is no such project. */
  async issueCount(slug: string): Promise<number | undefined> {
    return (await this.sql.get<{ n: number }>(COUNT, [slug]))?.n;
  }

  /**
   * Rule 9.2: a project goes with its issues, links, activity, memberships, outbox rows and Discord
   * message ids (its notification state), deleted table by table in the caller's transaction rather
   * than left to ON DELETE rules nobody reads. Tables added later that hang off issues must be added
   * here too (the test lists every table).
   */
  async delete(slug: string): Promise<DeletedProject | undefined> {
    const project = await this.sql.get<{ id: number }>(BY_SLUG, [slug]);
    if (!project) return undefined;
    const run = (text: string) => this.sql.run(text, [project.id]);
    const outbox = await run(DELETE_OUTBOX);
    const discordMessages = await run(DELETE_DISCORD_MESSAGES);
    const activity = await run(DELETE_ACTIVITY);
    const links = await run(DELETE_LINKS);
    const memberships = await run(DELETE_MEMBERSHIPS);
    const issues = await run(DELETE_ISSUES);
    await run(DELETE_PROJECT);
    return { project: slug, issues, links, activity, memberships, outbox, discordMessages };
  }
}
