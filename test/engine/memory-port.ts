import type {
  ActivityRow,
  Change,
  IssueStatus,
  LinkedIssueRow,
  LinkedIssues,
  StatusMapping,
  SyncPort,
  SyncSettingRow,
} from "../../src/engine/types.js";
import type { fullDataset } from "../world.js";

type Dataset = ReturnType<typeof fullDataset>;
type Field = Change["field"];

interface Issue {
  id: number;
  key: string;
  projectId: number;
  status: IssueStatus;
  assigneeId: number | null;
}

const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

/**
 * The engine's SyncPort over plain maps, answering as src/store/sync-repo.ts does: the rule tests
 * run the pure engine against it in microseconds, with no store, no CLI and no payload. Built from
 * a dataset in `hooksync import`'s shape (the world's), numbering rows in the order they come;
 * integrations are numbered 1, 2... and found by their externalId with integrationId().
 */
export class MemoryPort implements SyncPort {
  readonly activity: ActivityRow[] = [];
  /** Every write through the port, in order: "assignee BACKEND-1", "status WEB-1", "revision 5 assignee 9"... */
  readonly writes: string[] = [];
  private readonly integrations = new Map<string, { id: number; organizations: number[] }>();
  private readonly organizations = new Map<string, number>();
  private readonly projects = new Map<string, { id: number; organizationId: number }>();
  private readonly users = new Map<string, { id: number; email: string; verified: boolean }>();
  /** "user:organization" and "user:project" of every member. */
  private readonly memberships = new Set<string>();
  private readonly settings = new Map<string, { inboundAssignee: boolean; inboundStatus: boolean }>();
  private readonly mappings = new Map<string, StatusMapping>();
  private readonly issues = new Map<string, Issue>();
  private readonly links: { issueId: number; integrationId: number; externalKey: string }[] = [];
  private readonly revisions = new Map<string, number>();

  constructor(d: Dataset) {
    d.organizations.forEach((o, i) => this.organizations.set(o.slug, i + 1));
    d.projects.forEach((p, i) => this.projects.set(p.slug, { id: i + 1, organizationId: this.organizations.get(p.organization)! }));
    d.users.forEach((u, i) => this.users.set(u.email, { id: i + 1, email: u.email, verified: u.verified }));
    for (const m of d.members) {
      const user = this.users.get(m.user)!.id;
      this.memberships.add(`${user}:org${this.organizations.get(m.organization)}`);
      for (const p of m.projects) this.memberships.add(`${user}:project${this.projects.get(p)!.id}`);
    }
    d.integrations.forEach((g, i) => this.integrations.set(g.externalId, { id: i + 1, organizations: g.organizations.map((o) => this.organizations.get(o)!) }));
    for (const s of d.sync) {
      this.settings.set(`${this.integrationId(s.integration)}:${this.organizations.get(s.organization)}`, { inboundAssignee: s.inboundAssignee, inboundStatus: s.inboundStatus });
    }
    for (const m of d.statusMappings) {
      this.mappings.set(`${this.integrationId(m.integration)}:${m.externalProject}`, { resolved: list(m.resolvedStatus), unresolved: list(m.unresolvedStatus) });
    }
    d.issues.forEach((i, n) =>
      this.issues.set(i.id, {
        id: n + 1,
        key: i.id,
        projectId: this.projects.get(i.project)!.id,
        status: i.status,
        assigneeId: i.assignee === null ? null : this.users.get(i.assignee)!.id,
      }),
    );
    for (const l of d.links) this.links.push({ issueId: this.issues.get(l.issue)!.id, integrationId: this.integrationId(l.integration), externalKey: l.externalKey });
  }

  integrationId(externalId: string): number {
    return this.integrations.get(externalId)!.id;
  }

  /** An issue's state as `hooksync issue list` shows it. */
  issue(key: string): { status: IssueStatus; assignee: string | null } {
    const i = this.issues.get(key)!;
    return { status: i.status, assignee: this.emailOf(i.assigneeId) };
  }

  /** The revision kept for the external issue's field, null when none. */
  kept(integrationId: number, externalKey: string, field: Field): number | null {
    return this.revisions.get(`${integrationId}:${externalKey}:${field}`) ?? null;
  }

  // ---- SyncPort ----

  async syncSettings(integrationId: number): Promise<SyncSettingRow[]> {
    const integration = [...this.integrations.values()].find((g) => g.id === integrationId)!;
    return integration.organizations.map((organizationId) => {
      const s = this.settings.get(`${integrationId}:${organizationId}`);
      const organization = [...this.organizations].find(([, id]) => id === organizationId)![0];
      return { organizationId, organization, inboundAssignee: s?.inboundAssignee ?? false, inboundStatus: s?.inboundStatus ?? false };
    });
  }

  async linkedIssues(integrationId: number, externalKey: string, field: Field): Promise<LinkedIssues> {
    const issues: LinkedIssueRow[] = this.links
      .filter((l) => l.integrationId === integrationId && l.externalKey === externalKey)
      .map((l) => [...this.issues.values()].find((i) => i.id === l.issueId)!)
      .sort((a, b) => a.key.localeCompare(b.key))
      .map((i) => {
        const [project, p] = [...this.projects].find(([, p]) => p.id === i.projectId)!;
        return { issueId: i.id, key: i.key, projectId: i.projectId, project, organizationId: p.organizationId, status: i.status, assigneeId: i.assigneeId, assigneeEmail: this.emailOf(i.assigneeId) };
      });
    // The store reads the revision on the links' rows: with no linked issue there is none.
    return { issues, revision: issues.length ? this.kept(integrationId, externalKey, field) : null };
  }

  async statusMapping(integrationId: number, externalProject: string): Promise<StatusMapping | undefined> {
    return this.mappings.get(`${integrationId}:${externalProject}`);
  }

  async verifiedUser(email: string): Promise<{ id: number; email: string } | undefined> {
    const u = this.users.get(email);
    return u?.verified ? { id: u.id, email: u.email } : undefined;
  }

  async isProjectMember(userId: number, organizationId: number, projectId: number): Promise<boolean> {
    return this.memberships.has(`${userId}:org${organizationId}`) && this.memberships.has(`${userId}:project${projectId}`);
  }

  async setAssignee(issueId: number, userId: number | null): Promise<void> {
    const i = this.byId(issueId);
    i.assigneeId = userId;
    this.writes.push(`assignee ${i.key}`);
  }

  async setStatus(issueId: number, status: IssueStatus): Promise<void> {
    const i = this.byId(issueId);
    i.status = status;
    this.writes.push(`status ${i.key}`);
  }

  async addActivity(row: ActivityRow): Promise<void> {
    this.activity.push(row);
    this.writes.push(`activity ${this.byId(row.issueId).key} ${row.kind}`);
  }

  async keepRevision(integrationId: number, externalKey: string, field: Field, revision: number): Promise<void> {
    const key = `${integrationId}:${externalKey}:${field}`;
    // Never lowers what is kept, as the store's upsert.
    if (revision > (this.revisions.get(key) ?? -Infinity)) this.revisions.set(key, revision);
    this.writes.push(`revision ${externalKey} ${field} ${revision}`);
  }

  private byId(issueId: number): Issue {
    return [...this.issues.values()].find((i) => i.id === issueId)!;
  }

  private emailOf(userId: number | null): string | null {
    return userId === null ? null : [...this.users.values()].find((u) => u.id === userId)!.email;
  }
}
